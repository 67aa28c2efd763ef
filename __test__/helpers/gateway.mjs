// The gateway tests' suite around scripts/lib/gateway.mjs (the real OpenClaw gateway under Node
// 24 with the plugin installed from its tarball), which `npm run demo:gateway` shares.
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { startGatewayWithModel } from '../../scripts/lib/gateway.mjs'

export * from '../../scripts/lib/gateway.mjs'

/**
 * A test file's gateway: before its tests, the scripted model, a gateway home with the plugin
 * installed and configured for the model (and, with `agentModel`, the gateway's own agent on it
 * too), and the running gateway; after them, both stopped. `tool(name, args)` calls a tool over
 * `/tools/invoke` and fails the test with the gateway's answer unless it succeeded.
 */
export function gatewaySuite({ agentModel = false } = {}) {
  const suite = {
    model: undefined,
    home: undefined,
    config: undefined,
    gw: undefined,
    async tool(name, args) {
      const r = await suite.gw.invoke(name, args)
      assert.equal(r.ok, true, `${name} ${JSON.stringify(args)} -> ${JSON.stringify(r)}`)
      return r.result
    },
  }
  let env
  before(async () => {
    env = await startGatewayWithModel({ agentModel })
    Object.assign(suite, { model: env.model, home: env.home, config: env.config, gw: env.gw })
  })
  after(() => env?.stop())
  return suite
}
