import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSourcePlugin, type DataSourceApi } from '@grafana/data';

// Checks the artefact Grafana loads, not the sources: run `npm run build` first (the root test
// script does). Skips only when dist/ has not been built.
const DIST = join(__dirname, '..', 'dist');
const built = existsSync(join(DIST, 'plugin.json')) && existsSync(join(DIST, 'module.js'));
if (!built) {
  console.warn(`Skipping the dist/ checks: ${DIST} is not built. Run npm run build first.`);
}
const describeBuilt = built ? describe : describe.skip;

/** Evaluates the AMD bundle with a stub `define`, resolving its externals like Grafana does. */
function loadAmdModule(
  source: string,
  externals: Record<string, unknown>
): { deps: string[]; exports: Record<string, unknown> } {
  let deps: string[] = [];
  let exports: Record<string, unknown> = {};
  const define = (names: string[], factory: (...args: unknown[]) => Record<string, unknown>) => {
    deps = names;
    exports = factory(
      ...names.map((name) => {
        if (!(name in externals)) {
          throw new Error(`module.js needs an unexpected external: ${name}`);
        }
        return externals[name];
      })
    );
  };
  new Function('define', source)(define);
  return { deps, exports };
}

describeBuilt('built plugin', () => {
  const pluginJson = built ? JSON.parse(readFileSync(join(DIST, 'plugin.json'), 'utf8')) : {};

  it.each([
    ['id', 'seefa-correlation-datasource'],
    ['type', 'datasource'],
    ['name', 'Correlation Station'],
  ])('plugin.json %s is %p', (key, value) => {
    expect(pluginJson[key]).toBe(value);
  });

  it('declares the Grafana version, the features and no proxy routes', () => {
    expect(pluginJson.dependencies.grafanaDependency).toBe('>=12.3.0');
    expect(pluginJson).toMatchObject({ metrics: true, logs: true, tracing: true, annotations: true });
    // Credentials go through the built-in data proxy settings, so no plugin routes are needed.
    expect(pluginJson.routes).toBeUndefined();
  });

  it('has its version and date filled in and its logo copied', () => {
    expect(pluginJson.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(pluginJson.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(existsSync(join(DIST, pluginJson.info.logos.small))).toBe(true);
  });

  it('module.js is AMD over Grafana externals and exports the datasource plugin', () => {
    const { deps, exports } = loadAmdModule(readFileSync(join(DIST, 'module.js'), 'utf8'), {
      '@grafana/data': require('@grafana/data'),
      '@grafana/runtime': require('@grafana/runtime'),
      '@grafana/ui': require('@grafana/ui'),
      react: require('react'),
      rxjs: require('rxjs'),
      module: { uri: '/public/plugins/seefa-correlation-datasource/module.js' },
    });
    expect(deps).toEqual(expect.arrayContaining(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react', 'rxjs']));
    const plugin = exports.plugin as DataSourcePlugin<DataSourceApi>;
    expect(plugin).toBeInstanceOf(DataSourcePlugin);
    // Names are minified; the class is recognised by its own methods.
    const proto = plugin.DataSourceClass.prototype as unknown as Record<string, unknown>;
    for (const method of ['query', 'testDatasource', 'interpolateVariablesInQueries', 'variableValues']) {
      expect(proto[method]).toEqual(expect.any(Function));
    }
    expect(plugin.components.ConfigEditor).toEqual(expect.any(Function));
    expect(plugin.components.QueryEditor).toEqual(expect.any(Function));
  });
});
