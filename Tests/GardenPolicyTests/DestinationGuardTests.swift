import GardenPolicy
import Testing

/// The SSRF guard: which addresses the garden never connects to for a visitor, and the
/// allow-list that lets a teacher (or a test) through; `upstream:` in garden.yaml, and
/// the refusal to start as an open proxy.
@Suite struct DestinationGuardTests {
    @Test(arguments: [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address (169.254.169.254 is the cloud metadata service)"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("0.0.0.0", "an unspecified (\"this network\") address"),
        ("224.0.0.1", "a multicast address"),
        ("255.255.255.255", "the limited broadcast address"),
        ("240.0.0.1", "a reserved address"),
        ("::", "the unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fd12:3456::1", "a unique local (private) address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("64:ff9b::a9fe:a9fe", "a link-local address (169.254.169.254 is the cloud metadata service)"),
        // IPv6 forms that carry an IPv4 address
        ("::10.0.0.1", "an IPv4-compatible address (deprecated; it can carry any IPv4 address)"),
        ("::8.8.8.8", "an IPv4-compatible address (deprecated; it can carry any IPv4 address)"),
        ("::ffff:0:7f00:1", "a loopback address"),
        ("64:ff9b:1::1", "a local-use IPv4/IPv6 translation address"),
        ("2002:7f00:1::", "a 6to4 address (it can carry any IPv4 address)"),
        ("2002:808:808::1", "a 6to4 address (it can carry any IPv4 address)"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo address (it can carry any IPv4 address)"),
        ("100::1", "a discard-only address"),
        // The documentation and benchmarking ranges, and their IPv6 twins
        ("192.0.2.1", "a documentation address"),
        ("198.51.100.7", "a documentation address"),
        ("203.0.113.200", "a documentation address"),
        ("198.18.0.1", "a benchmarking address"),
        ("198.19.255.254", "a benchmarking address"),
        ("2001:db8::1", "a documentation address"),
        ("3fff::1", "a documentation address"),
        ("2001:2::1", "a benchmarking address"),
    ])
    func forbiddenAddresses(address: String, reason: String) throws {
        let bytes = try #require(IPAddressRange.parseAddress(address))
        #expect(DestinationGuard().refusal(for: bytes) == reason)
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
        "::ffff:0:808:808", "192.0.0.9", "2001:4:112::1", "2a00:1450:4001:82a::200e",
    ])
    func publicAddressesPass(address: String) throws {
        let bytes = try #require(IPAddressRange.parseAddress(address))
        #expect(DestinationGuard().refusal(for: bytes) == nil)
    }

    /// Every row of the table, at its first and last address: refused with its reason,
    /// let through, or judged by the IPv4 address it carries.
    @Test(arguments: DestinationGuard.table.map { $0.range.description })
    func everyRowOfTheTableHolds(block: String) throws {
        let row = try #require(DestinationGuard.table.first { $0.range.description == block })
        let first = row.range.network
        var last = first
        for index in last.indices {
            let networkBits = max(0, min(8, row.range.prefixLength - index * 8))
            last[index] |= UInt8(truncatingIfNeeded: 0xFF >> networkBits)
        }
        // Its middle: the first host bit set (for ::/0, 8000::, outside every other row).
        var middle = first
        if row.range.prefixLength < first.count * 8 {
            middle[row.range.prefixLength / 8] |= UInt8(0x80 >> (row.range.prefixLength % 8))
        }
        // The row decides at one of these at least (the others may lie in a more specific row).
        let decided = [first, middle, last].filter { DestinationGuard.block(of: $0)?.range == row.range }
        #expect(!decided.isEmpty, "\(block) decides neither its first nor its last address")
        for address in decided {
            switch row.verdict {
            case .refused:
                #expect(DestinationGuard().refusal(for: address) == row.reason, "\(address) in \(block)")
                #expect(!row.reason.isEmpty)
            case .reachable:
                #expect(DestinationGuard().refusal(for: address) == nil, "\(address) in \(block)")
            case .judgedByEmbeddedIPv4:
                let prefix = Array(address[0..<12])
                #expect(DestinationGuard().refusal(for: prefix + [8, 8, 8, 8]) == nil, "8.8.8.8 in \(block)")
                #expect(DestinationGuard().refusal(for: prefix + [127, 0, 0, 1]) == "a loopback address", "127.0.0.1 in \(block)")
            }
        }
    }

    /// The guard fails closed: what is not an IPv4 or IPv6 address is refused.
    @Test(arguments: [[UInt8](), [1, 2, 3], [UInt8](repeating: 8, count: 5), [UInt8](repeating: 1, count: 17)])
    func unreadableAddressesAreRefused(address: [UInt8]) {
        #expect(DestinationGuard().refusal(for: address) == "an address the garden cannot read")
    }

    @Test func theAllowListLetsNamedRangesThrough() throws {
        let guardrail = DestinationGuard(allowed: [IPAddressRange("127.0.0.1/32")!])
        #expect(guardrail.refusal(for: try #require(IPAddressRange.parseAddress("127.0.0.1"))) == nil)
        #expect(guardrail.refusal(for: try #require(IPAddressRange.parseAddress("127.0.0.2"))) == "a loopback address")
        #expect(guardrail.refusal(for: try #require(IPAddressRange.parseAddress("::1"))) == "a loopback address")
    }

    static func config(garden: String, policy: String = "classes: {citizen: C.}\ndefault_class: citizen\ndefault: allow") throws(ConfigErrors) -> GardenConfig {
        try GardenConfig.parse(
            garden: .init(file: "garden.yaml", text: garden),
            sites: .init(file: "sites.yaml", text: "sites:\n  portal.kp: {zone: intranet}"),
            policy: .init(file: "policy.yaml", text: policy)
        )
    }

    @Test func upstreamSettingsAreRead() throws {
        let config = try Self.config(garden: """
            listeners: [127.0.0.1:8080]
            portal: portal.kp
            upstream: {mode: direct, allow: [127.0.0.1/32, "::1/128"], connect_timeout: 2s, classes: [citizen]}
            tunnels: {ports: [443, 8443]}
            """)
        #expect(config.upstream.mode == .direct)
        #expect(config.upstream.guardrail.allowed.map(\.description) == ["127.0.0.1/32", "0:0:0:0:0:0:0:1/128"])
        #expect(config.upstream.connectTimeout == .seconds(2))
        #expect(config.tunnelPorts == [443, 8443])
        let defaults = try Self.config(garden: "listeners: [127.0.0.1:8080]\nportal: portal.kp").upstream
        #expect(defaults.mode == .off && !defaults.letsOut("citizen"))
        #expect(defaults.via && defaults.forwardedFor == .remove && defaults.classes == nil)
        #expect(defaults.readTimeout == .seconds(30) && defaults.maxResponseBytes == 64 << 20 && defaults.maxRequestBodyBytes == 1 << 20)
    }

    @Test func fetchSettingsAreRead() throws {
        let policy = "classes: {citizen: C., official: O.}\ndefault_class: citizen\ndefault: allow"
        let upstream = try Self.config(garden: """
            listeners: [127.0.0.1:8080]
            portal: portal.kp
            upstream:
              mode: direct
              read_timeout: 1m
              max_response: 8MiB
              max_request_body: 64KiB
              via: false
              forwarded_for: add
              classes: [official]
            """, policy: policy).upstream
        #expect(upstream.readTimeout == .seconds(60))
        #expect(upstream.maxResponseBytes == 8 << 20 && upstream.maxRequestBodyBytes == 64 << 10)
        #expect(!upstream.via && upstream.forwardedFor == .add)
        #expect(upstream.letsOut("official") && !upstream.letsOut("citizen"))
    }

    @Test(arguments: [
        ("listeners: [0.0.0.0:8080]\nportal: portal.kp\nupstream: {mode: direct, classes: [citizen]}",
         "garden.yaml:3:11: upstream: direct with a listener on 0.0.0.0:8080 would make the garden an open proxy; add rules with `clients` or `accounts`/`signed_in` (or client address classes), or listen on loopback only"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: directly}",
         "garden.yaml:3:18: unknown upstream mode 'directly' (did you mean 'direct'?); modes are 'off' and 'direct'"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: direct}",
         "garden.yaml:3:18: upstream: direct needs `classes:`, the visitor classes that may leave for the real internet, e.g. classes: [official, foreigner] (classes are 'citizen')"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: direct, allow: [localhost]}",
         "garden.yaml:3:34: 'localhost' is not an address range; write it as 127.0.0.1/32 or ::1/128"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: direct, classes: [oficial]}",
         "garden.yaml:3:36: 'oficial' is not a class in policy.yaml; classes are 'citizen'"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: direct, forwarded_for: yes}",
         "garden.yaml:3:41: unknown forwarded_for setting 'yes'; settings are 'remove', 'add' and 'keep'"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: direct, max_response: 10}",
         "garden.yaml:3:40: max_response must be between 1024 and 1099511627776 bytes, not 10"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\nupstream: {mode: direct, timeout: 5s}",
         "garden.yaml:3:26: unknown key 'timeout' in upstream; known keys: 'mode', 'allow', 'connect_timeout', 'read_timeout', 'max_response', 'max_request_body', 'inspect_limit', 'via', 'forwarded_for', 'classes'"),
        ("listeners: [127.0.0.1:8080]\nportal: portal.kp\ntunnels: {ports: [70000]}",
         "garden.yaml:3:19: a tunnel port must be between 1 and 65535, not 70000"),
    ])
    func mistakesArePinpointed(garden: String, expected: String) {
        do {
            _ = try Self.config(garden: garden)
            Issue.record("no error for \(expected)")
        } catch {
            #expect(error.diagnostics.map(\.description).contains(expected), "\(error.diagnostics)")
        }
    }

    @Test func anExposedWayOutIsFineWhenVisitorsAreToldApart() throws {
        let policy = """
            classes: {citizen: C., teacher: T.}
            default_class: citizen
            addresses: [{clients: [192.168.0.0/16], class: citizen}]
            default: allow
            """
        let config = try Self.config(garden: "listeners: [0.0.0.0:8080]\nportal: portal.kp\nupstream: {mode: direct, classes: [teacher]}", policy: policy)
        #expect(config.upstream.mode == .direct)
    }
}

/// A host in a rule that matches no site is a warning when the garden has no way out:
/// the rule could never match it, and it is almost always a misspelling.
@Suite struct HostWarningTests {
    static let sites = "sites:\n  portal.kp: {zone: intranet}\n  cooks.org.kp: {zone: intranet, aliases: [www.cooks.org.kp]}\n  news.example: {zone: internet}"

    static func config(hosts: String, upstream: String = "") throws(ConfigErrors) -> GardenConfig {
        try GardenConfig.parse(
            garden: .init(file: "garden.yaml", text: "listeners: [127.0.0.1:8080]\nportal: portal.kp\n" + upstream),
            sites: .init(file: "sites.yaml", text: sites),
            policy: .init(file: "policy.yaml", text: """
                classes: {citizen: C.}
                default_class: citizen
                rules:
                  - id: no-cooks
                    reason: R.
                    hosts: \(hosts)
                    action: block
                default: allow
                """)
        )
    }

    @Test(arguments: [
        ("[cooks.org.kpp]", ["policy.yaml:6:13: 'cooks.org.kpp' in rule 'no-cooks' matches no site in sites.yaml (did you mean 'cooks.org.kp'?), and the garden has no way out to the real internet: the rule can never match it"]),
        ("[cooks.org.kp, \"*.kpp\"]", ["policy.yaml:6:27: '*.kpp' in rule 'no-cooks' matches no site in sites.yaml (did you mean '*.kp'?), and the garden has no way out to the real internet: the rule can never match it"]),
        ("[cooks.org.kp, www.cooks.org.kp, \"*.example\", \"*.kp\"]", []),
    ] as [(String, [String])])
    func aHostThatMatchesNoSiteIsAWarning(hosts: String, expected: [String]) throws {
        #expect(try Self.config(hosts: hosts).warnings.map(\.description) == expected)
    }

    @Test func withAWayOutAnyHostMayBeMeant() throws {
        let config = try Self.config(hosts: "[worldnews.example]", upstream: "upstream: {mode: direct, classes: [citizen]}")
        #expect(config.warnings.isEmpty)
    }
}
