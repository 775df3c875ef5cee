import Foundation
import GardenPolicy
import Testing

/// Effects: `monitor`, `rewrite` and the settings of `throttle`, read and checked now and
/// carried out by the issue that builds throttling.
@Suite struct EffectTests {
    static func rule(effects: String) throws(ConfigErrors) -> Rule {
        let text = "classes: {c: C}\ndefault_class: c\nrules:\n  - id: r\n    reason: R\n    effects: \(effects)\ndefault: allow\n"
        return try Policy.parse(.init(file: "p.yaml", text: text)).rules[0]
    }

    @Test(arguments: [
        ("[monitor]", [Effect.monitor]),
        ("[{throttle: {rate: 16KiB, latency: 2s}}]", [.throttle(Throttle(bytesPerSecond: 16_384, latency: .seconds(2)))]),
        ("[{throttle: {rate: 800}}, monitor]", [.throttle(Throttle(bytesPerSecond: 800, latency: nil)), .monitor]),
        ("[{rewrite: {links: neutralise, watermark: true}}]", [.rewrite(RewriteSet(links: .neutralise, watermark: true))]),
        ("[{rewrite: {substitute: {oppa: comrade}, redact: [freedom]}}]",
         [.rewrite(RewriteSet(substitutions: [.init(word: "oppa", replacement: "comrade")], redactions: ["freedom"]))]),
    ])
    func effectsAreRead(effects: String, expected: [Effect]) throws {
        #expect(try Self.rule(effects: effects).effects == expected)
    }

    @Test(arguments: [
        ("[throttle]", "p.yaml:6:15: throttle needs settings, e.g. {throttle: {rate: 16KiB, latency: 2s}}"),
        ("[{throttle: {}}]", "p.yaml:6:26: throttle needs 'rate' (bytes per second), 'latency' or both"),
        ("[{throttle: {rate: fast}}]", "p.yaml:6:33: rate (bytes per second) must be a size such as 8192, 16KiB or 1MiB, not 'fast'"),
        ("[{rewrite: {links: hide}}]", "p.yaml:6:33: links must be 'neutralise', 'remove', 'keep', not 'hide'"),
        ("[{rewrite: {}}]", "p.yaml:6:25: this rewrite changes nothing; give links, substitute, redact, emphasis, banner or watermark"),
        ("[{censor: {}}]", "p.yaml:6:16: unknown key 'censor' in an effect; known keys: 'throttle', 'rewrite'"),
        ("[monitr]", "p.yaml:6:15: unknown effect 'monitr' (did you mean 'monitor'?); effects are 'monitor', 'throttle', 'rewrite'"),
    ])
    func mistakesArePinpointed(effects: String, expected: String) {
        do {
            _ = try Self.rule(effects: effects)
            Issue.record("accepted \(effects)")
        } catch {
            #expect(error.diagnostics.map(\.description).contains(expected), "\(error.diagnostics.map(\.description))")
        }
    }

}
