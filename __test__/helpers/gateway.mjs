// The gateway tests' suite around scripts/lib/gateway.mjs (the real OpenClaw gateway under Node
// 24 with the plugin installed from its tarball), which `npm run demo:gateway` shares.
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { startScriptedModel } from 'openclaw-sessions/testing'
import { agentModelConfig, gatewayHome, installPlugin, pluginConfigFor, startGateway } from '../../scripts/lib/gateway.mjs'

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
  before(async () => {
    suite.model = await startScriptedModel()
    suite.home = await gatewayHome()
    suite.config = pluginConfigFor(suite.model, suite.home)
    await installPlugin(suite.home, suite.config, agentModel ? agentModelConfig(suite.model) : {})
    suite.gw = await startGateway(suite.home)
  })
  after(async () => {
    await suite.gw?.stop()
    await suite.model?.close()
  })
  return suite
}
