import { DATASOURCE_FILE, expect, isProxyResponse, test } from './fixtures';

test.describe('Explore', () => {
  test.beforeEach(async ({ explorePage, readProvisionedDataSource }) => {
    const ds = await readProvisionedDataSource({ fileName: DATASOURCE_FILE });
    await explorePage.datasource.set(ds.name);
  });

  test('opens the stitched trace in the trace view', async ({ explorePage, page, demo }) => {
    const row = explorePage.getQueryEditorRow('A');
    await row.getByText('Circuit trace', { exact: true }).click();
    await row.getByLabel('Circuit or trace id').fill(demo.circuitId);
    await row.getByLabel('Circuit or trace id').press('Enter');
    await explorePage.runQuery({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(page.getByText('ServiceMapper').first()).toBeVisible();
  });

  test('opens one trace by id', async ({ explorePage, page, demo }) => {
    const row = explorePage.getQueryEditorRow('A');
    await row.getByText('Circuit trace', { exact: true }).click();
    await row.getByLabel('Circuit or trace id').fill(demo.traceIds.mdso);
    await row.getByLabel('Circuit or trace id').press('Enter');
    await explorePage.runQuery({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(page.getByText('activate resource').first()).toBeVisible();
  });

  test('shows logs with their trace links', async ({ explorePage, page, demo }) => {
    const row = explorePage.getQueryEditorRow('A');
    await row.getByText('Logs', { exact: true }).click();
    await row.getByLabel('Circuit id').fill(demo.circuitId);
    await row.getByLabel('Circuit id').press('Enter');
    await explorePage.runQuery({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(page.getByText('activation requested').first()).toBeVisible();
  });

  test('shows the service graph', async ({ explorePage, page }) => {
    const row = explorePage.getQueryEditorRow('A');
    await row.getByText('Service graph', { exact: true }).click();
    await explorePage.runQuery({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(page.getByText('mdso').first()).toBeVisible();
  });

  test('shows circuits as a table', async ({ explorePage, demo }) => {
    const row = explorePage.getQueryEditorRow('A');
    await row.getByText('Circuit search', { exact: true }).click();
    await row.getByLabel('Circuit id').fill(demo.circuitId);
    await row.getByLabel('Circuit id').press('Enter');
    await explorePage.runQuery({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(explorePage.tablePanel.data).toContainText([demo.circuitId]);
  });
});
