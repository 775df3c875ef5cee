import Foundation
import GardenPolicy
import GardenServer

/// A lesson pack's `probes.yaml`, run against the live garden: each address fetched
/// through the listener of its class, as `walled-garden probe` fetches it, and the
/// censorship observed compared with the one expected. CI runs every pack's probes.
public enum LessonProbes {
    /// One probe's outcome.
    public struct Outcome: Sendable {
        public var expectation: ProbeExpectation
        /// What the probe observed, in `probe`'s words.
        public var observed: String
        public var passed: Bool
        /// Why it failed, in words; empty when it passed.
        public var problem: String
    }

    /// The pack's probes, read and checked against the policy's classes.
    public static func expectations(of pack: LessonPack, classes: [String: String]) throws(ConfigErrors) -> [ProbeExpectation] {
        let file = pack.file("probes.yaml")
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        return try ProbeExpectation.parse(.init(file: file, text: String(decoding: data, as: UTF8.self)), classes: classes)
    }

    /// Runs `probes` through the garden: `port(for:)` is the port of a class's persona
    /// listener on `host`. Blocking: run it off any event loop.
    public static func run(
        _ probes: [ProbeExpectation], config: GardenConfig, sitesDirectory: String, host: String = "127.0.0.1",
        timeout: Double = 10, port: (String) -> Int?
    ) -> [Outcome] {
        // The garden's authority, fetched once per listener, for the https probes.
        var authorities: [Int: [UInt8]?] = [:]
        return probes.map { probe in
            guard let port = port(probe.visitorClass) else {
                return Outcome(
                    expectation: probe, observed: "-", passed: false,
                    problem: "no listener has the persona '\(probe.visitorClass)' (garden.yaml's listeners)"
                )
            }
            let control = Probe.control(url: probe.url, config: config, sitesDirectory: sitesDirectory)
            let seen: Probe.Observation
            if probe.url.hasPrefix("https://") {
                if authorities[port] == nil { authorities[port] = Probe.gardenAuthority(host: host, port: port, timeout: timeout) }
                seen = Probe.fetchOverTLS(
                    url: probe.url, connectTo: probe.connectTo, proxyHost: host, proxyPort: port, proxyAuthorization: nil,
                    authorityPEM: authorities[port] ?? nil, timeout: timeout
                )
            } else {
                seen = Probe.fetch(url: probe.url, proxyHost: host, proxyPort: port, proxyAuthorization: nil, timeout: timeout)
            }
            let verdict = Probe.classify(seen, control: control)
            let observed = name(of: verdict)
            var problems: [String] = []
            if observed != probe.expected.rawValue { problems.append("expected \(probe.expected.rawValue), observed \(verdict.summary)") }
            if let word = probe.shows, !String(decoding: seen.body, as: UTF8.self).contains(word) {
                problems.append("the page does not show '\(word)'")
            }
            return Outcome(expectation: probe, observed: verdict.summary, passed: problems.isEmpty, problem: problems.joined(separator: "; "))
        }
    }

    /// A verdict as `probes.yaml` names it.
    static func name(of verdict: Probe.Verdict) -> String {
        switch verdict {
        case .none: "none"
        case .blockPage: "block"
        case .unavailableForLegalReasons: "unavailable"
        case .fakeNotFound: "notfound"
        case .redirect: "redirect"
        case .signInDemanded: "sign-in"
        case .drop: "drop"
        case .reset: "reset"
        case .stall: "stall"
        case .throttled: "throttled"
        case .rewritten: "rewritten"
        case .unreachable: "unreachable"
        case .noControl: "no control"
        }
    }
}
