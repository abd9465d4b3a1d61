import { DATASOURCE_FILE, expect, isProxyResponse, test } from './fixtures';

test.describe('query editors in a dashboard panel', () => {
  test.beforeEach(async ({ panelEditPage, readProvisionedDataSource }) => {
    const ds = await readProvisionedDataSource({ fileName: DATASOURCE_FILE });
    await panelEditPage.datasource.set(ds.name);
  });

  test('circuit search lists the demo circuit', async ({ panelEditPage, demo }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('Circuit search', { exact: true }).click();
    await row.getByLabel('Circuit id').fill(demo.circuitId);
    await row.getByLabel('Circuit id').press('Enter');
    await panelEditPage.setVisualization('Table');
    await panelEditPage.refreshPanel({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(panelEditPage.panel.fieldNames).toContainText(['Circuit', 'Status', 'Services']);
    await expect(panelEditPage.panel.data).toContainText([demo.circuitId]);
  });

  test('circuit trace renders the stitched trace', async ({ panelEditPage, page, demo }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('Circuit trace', { exact: true }).click();
    await row.getByLabel('Circuit or trace id').fill(demo.circuitId);
    await row.getByLabel('Circuit or trace id').press('Enter');
    await panelEditPage.setVisualization('Traces');
    await expect(page.getByText('POST /circuits/activate').first()).toBeVisible();
    await expect(page.getByText('provision port').first()).toBeVisible();
  });

  test('correlations table', async ({ panelEditPage, demo }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('Correlations', { exact: true }).click();
    await row.getByLabel('Circuit id').fill(demo.circuitId);
    await row.getByLabel('Circuit id').press('Enter');
    await panelEditPage.setVisualization('Table');
    await panelEditPage.refreshPanel({ waitForResponsePredicateCallback: isProxyResponse });
    await expect(panelEditPage.panel.data).toContainText(['circuit_id_match']);
  });

  test('logs of the circuit', async ({ panelEditPage, page, demo }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('Logs', { exact: true }).click();
    await row.getByLabel('Circuit id').fill(demo.circuitId);
    await row.getByLabel('Circuit id').press('Enter');
    await panelEditPage.setVisualization('Logs');
    await expect(page.getByText('NSO timeout while activating').first()).toBeVisible();
  });

  test('MDSO errors as counts over time', async ({ panelEditPage }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('MDSO errors', { exact: true }).click();
    await row.getByText('Counts over time', { exact: true }).click();
    await row.getByText('Defect code', { exact: true }).click();
    await panelEditPage.setVisualization('Time series');
    await expect(panelEditPage.refreshPanel({ waitForResponsePredicateCallback: isProxyResponse })).toBeOK();
  });

  test('MDSO issues table', async ({ panelEditPage }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('MDSO issues', { exact: true }).click();
    await panelEditPage.setVisualization('Table');
    await expect(panelEditPage.refreshPanel({ waitForResponsePredicateCallback: isProxyResponse })).toBeOK();
  });

  test('service graph marks bridged hops', async ({ panelEditPage, page, demo }) => {
    const row = panelEditPage.getQueryEditorRow('A');
    await row.getByText('Service graph', { exact: true }).click();
    await row.getByLabel('Circuit id').fill(demo.circuitId);
    await row.getByLabel('Circuit id').press('Enter');
    await panelEditPage.setVisualization('Node Graph');
    await expect(page.getByText('beorn').first()).toBeVisible();
    await expect(page.getByText('arda').first()).toBeVisible();
  });
});
