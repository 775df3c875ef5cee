import Foundation
import GardenPolicy
import GardenServer
import GardenTeaching
import Testing

/// `probe` against a real garden: each censor style named from what came back, compared
/// with the control from the site store.
@Suite(.stopsWhatItStarts) struct ProbeTests {
    static let policyText = """
    classes: {citizen: Citizens.}
    default_class: citizen
    rules:
      - id: blocked
        reason: Blocked.
        paths: [/block/]
        action: block
      - id: legal
        reason: Legal reasons.
        paths: [/legal/]
        action: unavailable
      - id: hidden
        reason: Not there.
        hosts: [outside.example]
        action: notfound
      - id: elsewhere
        reason: Go to the portal.
        paths: [/moved/]
        action: redirect
        to: http://portal.kp/
      - id: sign-in
        reason: Sign in.
        paths: [/private/]
        action: authenticate
      - id: dropped
        reason: Drop.
        paths: [/drop/]
        action: drop
      - id: reset
        reason: Reset.
        paths: [/reset/]
        action: reset
      - id: stalled
        reason: Stall.
        paths: [/stall/]
        action: stall
        for: 3s
      - id: slow
        reason: Slow.
        paths: [/docs/guide.html]
        effects: [{throttle: {latency: 1200ms}}]
      - id: words
        reason: Approved words.
        paths: [/page.html]
        effects: [{rewrite: {substitute: {alpha: omega}}}]
    default: allow
    """

    static func verdict(_ path: String, host: String = "alpha.kp", garden: TestGarden) async throws -> Probe.Verdict {
        let url = "http://\(host)\(path)"
        let control = Probe.control(url: url, config: garden.config, sitesDirectory: garden.sitesDirectory.path)
        let port = garden.port
        let seen = try await RawConnection.offPool {
            // 2 s of silence is a stall: longer than the throttle's wait, shorter than the stall's.
            Probe.fetch(url: url, proxyHost: "127.0.0.1", proxyPort: port, proxyAuthorization: nil, timeout: 2)
        }
        return Probe.classify(seen, control: control)
    }

    @Test func eachStyleIsNamed() async throws {
        let garden = try await TestGarden(files: TestGarden.defaultFiles.merging([
            "alpha.kp/page.html": "<html><head><title>alpha</title></head><body><h1>alpha page</h1></body></html>",
        ]) { $1 }, policy: try Policy.parse(.init(file: "policy.yaml", text: Self.policyText)))
        defer { afterTest { await garden.stop() } }
        #expect(try await Self.verdict("/index.html", garden: garden) == .none)
        #expect(try await Self.verdict("/block/x", garden: garden) == .blockPage)
        #expect(try await Self.verdict("/legal/x", garden: garden) == .unavailableForLegalReasons(authority: "http://portal.kp/authority.html"))
        #expect(try await Self.verdict("/", host: "outside.example", garden: garden) == .fakeNotFound)
        #expect(try await Self.verdict("/moved/x", garden: garden) == .redirect(to: "http://portal.kp/"))
        #expect(try await Self.verdict("/private/x", garden: garden) == .signInDemanded)
        #expect(try await Self.verdict("/drop/x", garden: garden) == .drop)
        #expect(try await Self.verdict("/reset/x", garden: garden) == .reset)
        #expect(try await Self.verdict("/stall/x", garden: garden) == .stall)
        guard case .throttled(let first, _) = try await Self.verdict("/docs/guide.html", garden: garden) else {
            Issue.record("not throttled")
            return
        }
        #expect(first >= 1.15)
        #expect(try await Self.verdict("/page.html", garden: garden) == .rewritten(changes: ["“alpha alpha” → “omega omega”"]))
        // A page the site does not have is nothing to compare.
        #expect(try await Self.verdict("/nope.html", garden: garden) == .noControl(status: 404))
    }

    /// A host the garden has no site for: the control is fetched from the real host
    /// directly, and compared with what the garden's way out brought.
    @Test func theRealHostIsTheControlForTheRealWeb() async throws {
        let origin = try await LoopbackOrigin.start()
        let upstream = UpstreamSettings.directToLoopback()
        let policy = try Policy.parse(.init(file: "policy.yaml", text: """
            classes: {citizen: Citizens.}
            default_class: citizen
            rules:
              - id: corrected
                reason: Corrected.
                paths: [/html/]
                effects: [{rewrite: {substitute: {weather: sunshine}}}]
            default: allow
            """))
        let garden = try await TestGarden(policy: policy, upstream: upstream)
        defer { afterTest { await garden.stop(); await origin.stop() } }
        let port = garden.port
        func verdict(_ path: String) async throws -> Probe.Verdict {
            let url = "http://127.0.0.1:\(origin.port)\(path)"
            #expect(Probe.control(url: url, config: garden.config, sitesDirectory: garden.sitesDirectory.path) == nil)
            return try await RawConnection.offPool {
                // Up to three tries while it looks throttled: that verdict is timing, and a
                // loaded machine can make one slow answer; a real throttle slows every one.
                var verdict = Probe.Verdict.none
                for _ in 0..<3 {
                    let control = Probe.directControl(url: url, timeout: 10)
                    let seen = Probe.fetch(url: url, proxyHost: "127.0.0.1", proxyPort: port, proxyAuthorization: nil, timeout: 10)
                    verdict = Probe.classify(seen, control: control)
                    guard case .throttled = verdict else { break }
                }
                return verdict
            }
        }
        let hello = try await verdict("/hello")
        #expect(hello == .none, "\(hello)")
        // Chunked on both paths, in different chunks: compared by content.
        let chunked = try await verdict("/chunked")
        #expect(chunked == .none, "\(chunked)")
        #expect(try await verdict("/html/weather") == .rewritten(changes: ["“weather” → “sunshine”"]))
    }

    @Test func anUnreachableGardenIsSaidSo() throws {
        let seen = Probe.fetch(url: "http://alpha.kp/", proxyHost: "127.0.0.1", proxyPort: 1, proxyAuthorization: nil, timeout: 1)
        guard case .unreachable(let why) = Probe.classify(seen, control: nil) else {
            Issue.record("\(seen.ending)")
            return
        }
        #expect(why.contains("127.0.0.1:1"))
    }
}
