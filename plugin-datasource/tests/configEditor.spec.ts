import { DATASOURCE_FILE, expect, test } from './fixtures';

test('config page shows connection, auth, links and query settings', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: DATASOURCE_FILE });
  await createDataSourceConfigPage({ type: ds.type });
  await expect(page.getByLabel('URL')).toBeVisible();
  await expect(page.getByText('Tempo datasource')).toBeVisible();
  await expect(page.getByText('Loki datasource')).toBeVisible();
  await expect(page.getByLabel('Default lookback')).toBeVisible();
});

test('bearer auth shows a secret token field', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: DATASOURCE_FILE });
  await createDataSourceConfigPage({ type: ds.type });
  await page.getByText('Bearer token', { exact: true }).click();
  await expect(page.getByLabel('Token')).toBeVisible();
  await expect(page.getByLabel('Password')).toHaveCount(0);
});

test('Save & test succeeds against the provisioned correlator', async ({
  readProvisionedDataSource,
  gotoDataSourceConfigPage,
}) => {
  const ds = await readProvisionedDataSource({ fileName: DATASOURCE_FILE });
  const configPage = await gotoDataSourceConfigPage(ds.uid);
  await expect(configPage.saveAndTest({ path: '/api/info' })).toBeOK();
  await expect(configPage).toHaveAlert('success', { hasText: /Connected to the correlator/ });
});

test('Save & test says the correlator is unreachable', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: DATASOURCE_FILE });
  const configPage = await createDataSourceConfigPage({ type: ds.type });
  await page.getByLabel('URL').fill('http://127.0.0.1:1');
  await expect(configPage.saveAndTest({ path: '/api/info' })).not.toBeOK();
  await expect(configPage).toHaveAlert('error', { hasText: /Unreachable/ });
});
