// jsdom (which @grafana/data and @grafana/ui need at import time) plus Node's own fetch, for the
// integration test that talks HTTP to a real correlator. jsdom has no fetch; Node's lives in the
// outer realm and is handed to the test's global here.
const { TestEnvironment } = require('jest-environment-jsdom');

class JsdomWithFetchEnvironment extends TestEnvironment {
  async setup() {
    await super.setup();
    Object.assign(this.global, { fetch, Headers, Request, Response });
  }
}

module.exports = JsdomWithFetchEnvironment;
