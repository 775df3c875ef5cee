import Foundation
import GardenPolicy
import Testing

/// The pure policy core: first matching rule decides, effects gather, shadows report,
/// and every mistake in `policy.yaml` is pinpointed.
@Suite struct PolicyTests {
    static let scenario = """
    classes:
      citizen: Ordinary citizens; the national network only.
      official: Officials; everything, watched.
      foreigner: Visitors from abroad; the outside world only.
    default_class: citizen
    rules:
      - id: watch-officials
        reason: Officials are trusted, but watched.
        classes: [official]
        effects: [monitor]
      - id: officials-everywhere
        reason: Officials may see everything.
        classes: [official]
        action: allow
      - id: search-to-portal
        reason: Citizens search on the portal.
        classes: citizen
        hosts: [search.example]
        action: redirect
        to: http://kwangmyong.kp/
      - id: no-outside
        reason: The outside world is not for citizens.
        classes: [citizen]
        zone: internet
        action: notfound
      - id: try-unavailable
        reason: Would the news be better 451?
        hosts: ["@news"]
        action: unavailable
        shadow: true
      - id: foreigners-outside
        reason: Foreigners may not enter the intranet.
        classes: [foreigner]
        zone: intranet
        action: block
      - id: lab
        reason: The lab machines see the admin pages.
        clients: [10.1.0.0/16]
        paths: [/admin/, "*.secret"]
        methods: [get]
        action: allow
    default:
      action: allow
      reason: Everything else is open.
    """

    static let lists = ["news": GardenConfig.Source(file: "Config/lists/news.txt", text: "# the papers\nachim.news.kp\n*.example  # all outside\n")]

    static let policy: Policy = {
        try! Policy.parse(.init(file: "Config/policy.yaml", text: scenario), lists: lists)
    }()

    @Test(arguments: [
        ("citizen", "friend.com.kp", Zone.intranet, "/", "default", "allow"),
        ("citizen", "search.example", .internet, "/", "search-to-portal", "redirect to http://kwangmyong.kp/"),
        ("citizen", "worldnews.example", .internet, "/", "no-outside", "notfound"),
        ("official", "worldnews.example", .internet, "/", "officials-everywhere", "allow"),
        ("foreigner", "friend.com.kp", .intranet, "/", "foreigners-outside", "block"),
        ("foreigner", "worldnews.example", .internet, "/", "default", "allow"),
    ] as [(String, String, Zone, String, String, String)])
    func firstMatchingRuleDecides(visitor: String, host: String, zone: Zone, path: String, rule: String, action: String) {
        let decision = Self.policy.decide(RequestFacts(visitorClass: visitor, host: host, zone: zone, path: path))
        #expect(decision.ruleID == rule)
        #expect(decision.action.description == action)
    }

    @Test func effectsGatherUntilADecision() {
        let decision = Self.policy.decide(RequestFacts(visitorClass: "official", host: "friend.com.kp", zone: .intranet))
        #expect(decision.effects == [.monitor])
        #expect(decision.trace.map(\.ruleID) == ["watch-officials", "officials-everywhere"])
        let citizen = Self.policy.decide(RequestFacts(visitorClass: "citizen", host: "friend.com.kp", zone: .intranet))
        #expect(citizen.effects.isEmpty)
    }

    @Test func shadowRulesReportButNeverDecide() {
        let decision = Self.policy.decide(RequestFacts(visitorClass: "foreigner", host: "achim.news.kp", zone: .intranet))
        #expect(decision.ruleID == "foreigners-outside")
        #expect(decision.shadowMatches.map(\.ruleID) == ["try-unavailable"])
        #expect(decision.shadowMatches.first?.action == .unavailable)
    }

    @Test func theTraceSaysWhyEachRuleDidNotMatch() {
        let decision = Self.policy.decide(RequestFacts(visitorClass: "citizen", host: "friend.com.kp", zone: .intranet))
        let first = decision.trace.first
        #expect(first?.ruleID == "watch-officials")
        #expect(first?.failedCondition?.wording == "the visitor is official")
        #expect(decision.trace.count == Self.policy.rules.count)
    }

    @Test(arguments: [
        ("10.1.2.3", "/admin/users", "GET", "lab"),
        ("10.1.2.3", "/files/plan.secret", "GET", "lab"),
        ("10.2.0.1", "/admin/users", "GET", "default"),
        ("10.1.2.3", "/public/", "GET", "default"),
        ("10.1.2.3", "/admin/", "POST", "default"),
    ])
    func clientPathAndMethodConditions(client: String, path: String, method: String, rule: String) {
        let facts = RequestFacts(
            visitorClass: "citizen", clientAddress: IPAddressRange.parseAddress(client),
            host: "friend.com.kp", zone: .intranet, path: path, method: method
        )
        #expect(Self.policy.decide(facts).ruleID == rule)
    }

    // MARK: - Mistakes

    static func diagnostics(_ edit: (String) -> String) -> [String] {
        do {
            _ = try Policy.parse(.init(file: "Config/policy.yaml", text: edit(scenario)), lists: lists)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    struct Mistake: Sendable, CustomTestStringConvertible {
        var from: String
        var to: String
        var expected: String
        var testDescription: String { expected }
    }

    static let mistakes: [Mistake] = [
        Mistake(from: "action: notfound", to: "action: notfund",
                expected: "Config/policy.yaml:25:13: unknown action 'notfund' (did you mean 'notfound'?); actions are 'allow', 'block', 'unavailable', 'notfound', 'redirect', 'drop', 'reset', 'stall', 'authenticate'"),
        Mistake(from: "classes: [foreigner]", to: "classes: [foriegner]",
                expected: "Config/policy.yaml:33:15: unknown class 'foriegner' (did you mean 'foreigner'?); classes are 'citizen', 'foreigner', 'official'"),
        Mistake(from: "effects: [monitor]", to: "effects: [monitr]",
                expected: "Config/policy.yaml:10:15: unknown effect 'monitr' (did you mean 'monitor'?); effects are 'monitor', 'throttle', 'rewrite'"),
        Mistake(from: "    to: http://kwangmyong.kp/\n", to: "",
                expected: "Config/policy.yaml:19:13: action redirect needs 'to', the address to send the visitor to"),
        Mistake(from: "clients: [10.1.0.0/16]", to: "clients: [10.1.0.0/33]",
                expected: "Config/policy.yaml:38:15: '10.1.0.0/33' is not an address range; write it like 10.0.0.0/8, 192.168.1.20 or fd00::/8"),
        Mistake(from: "\"@news\"", to: "\"@nws\"",
                expected: "Config/policy.yaml:28:13: no list 'nws' (did you mean 'news'?); lists are files in Config/lists/ named NAME.txt"),
        Mistake(from: "    zone: intranet\n    action: block", to: "    zone: intranet\n    actoin: block",
                expected: "Config/policy.yaml:35:5: unknown key 'actoin' in a rule (did you mean 'action'?); known keys: 'id', 'reason', 'classes', 'clients', 'hosts', 'zone', 'paths', 'methods', 'url_keywords', 'schedule', 'accounts', 'signed_in', 'content_keywords', 'action', 'to', 'for', 'effects', 'shadow'"),
        Mistake(from: "id: lab", to: "id: no-outside",
                expected: "Config/policy.yaml:36:5: two rules have the id 'no-outside'; ids must be unique"),
        Mistake(from: "default:\n  action: allow\n  reason: Everything else is open.", to: "",
                expected: "Config/policy.yaml:1:1: policy.yaml needs 'default'"),
        Mistake(from: "default_class: citizen", to: "default_class: citizens",
                expected: "Config/policy.yaml:5:16: unknown class 'citizens' (did you mean 'citizen'?); classes are 'citizen', 'foreigner', 'official'"),
    ]

    @Test(arguments: mistakes)
    func mistakesArePinpointed(mistake: Mistake) {
        let found = Self.diagnostics { $0.replacingOccurrences(of: mistake.from, with: mistake.to) }
        #expect(found.contains(mistake.expected), "\(found)")
    }

    @Test func aBadLineInAListIsReportedInTheList() {
        let lists = ["news": GardenConfig.Source(file: "Config/lists/news.txt", text: "achim.news.kp\nhttp://bad/\n")]
        do {
            _ = try Policy.parse(.init(file: "Config/policy.yaml", text: Self.scenario), lists: lists)
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["Config/lists/news.txt:2:1: 'http://bad/' is not a host pattern; write friend.com.kp or *.example"])
        }
    }

    // MARK: - Patterns

    @Test(arguments: [
        ("10.0.0.0/8", "10.200.3.4", true), ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.20", "192.168.1.20", true), ("192.168.1.20", "192.168.1.21", false),
        ("0.0.0.0/0", "8.8.8.8", true), ("10.1.2.3/8", "10.9.9.9", true),
        ("fd00::/8", "fd12:3456::1", true), ("fd00::/8", "fe80::1", false),
        ("::1", "::1", true), ("10.0.0.0/8", "::ffff:10.0.0.1", true), ("::/0", "10.0.0.1", false),
    ])
    func addressRanges(range: String, address: String, contained: Bool) throws {
        let parsed = try #require(IPAddressRange(range))
        let bytes = try #require(IPAddressRange.parseAddress(address))
        #expect(parsed.contains(bytes) == contained)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.4/", "1.2.3.4/x", "::1::2", "fffff::", "1:2:3:4:5:6:7:8:9", "10.0.0.0/-1"])
    func badAddressRanges(text: String) {
        #expect(IPAddressRange(text) == nil)
    }

    @Test(arguments: [
        ("friend.com.kp", "friend.com.kp", true), ("friend.com.kp", "www.friend.com.kp", false),
        ("*.example", "news.example", true), ("*.example", "a.b.example", true), ("*.example", "example", false),
        ("*.example", "notexample", false), ("FRIEND.com.kp", "friend.com.kp", true),
    ])
    func hostPatterns(pattern: String, host: String, matches: Bool) throws {
        #expect(try #require(HostPattern(pattern)).matches(host) == matches)
    }

    @Test(arguments: [
        ("/news/", "/news/today.html", true), ("/news/", "/newsletter", false),
        ("*.html", "/a/b.html", true), ("*.html", "/a/b.htm", false),
        ("/a/*/c", "/a/b/c", true), ("/a/*/c", "/a/b/x/c", true), ("/a/*/c", "/a/c", false),
        ("/*", "/anything", true), ("*a*b*", "/xaxxbx", true),
    ])
    func pathPatterns(pattern: String, path: String, matches: Bool) throws {
        #expect(try #require(PathPattern(pattern)).matches(path) == matches)
    }
}

/// `explain`'s words for a decision.
@Suite struct ExplanationTests {
    @Test func explainsEveryRuleLookedAtAndTheDecision() {
        let policy = PolicyTests.policy
        let facts = RequestFacts(visitorClass: "citizen", host: "worldnews.example", zone: .internet)
        let lines = Explanation(
            policy: policy, request: facts, decision: policy.decide(facts), howClassWasFound: "from --as", url: "http://worldnews.example/"
        ).lines
        #expect(lines == [
            "Visitor: citizen (from --as)",
            "Request: GET http://worldnews.example/ — worldnews.example is a site on the internet",
            "Rules, top to bottom:",
            "  1. watch-officials — does not apply: it is only for when the visitor is official.",
            "  2. officials-everywhere — does not apply: it is only for when the visitor is official.",
            "  3. search-to-portal — does not apply: it is only for when the host is search.example.",
            "  4. no-outside — applies and decides: notfound.",
            "  (3 more rules not looked at: the first deciding rule ends the search.)",
            "Decision: notfound (HTTP 404, as if the address did not exist), by rule no-outside — “The outside world is not for citizens.”",
        ])
    }

    @Test func explainsEffectsShadowsAndTheDefault() {
        let policy = PolicyTests.policy
        let facts = RequestFacts(visitorClass: "foreigner", host: "achim.news.kp", zone: .intranet)
        let lines = Explanation(
            policy: policy, request: facts, decision: policy.decide(facts), howClassWasFound: "the default class", url: "http://achim.news.kp/"
        ).lines
        #expect(lines.contains("  5. try-unavailable (shadow) — applies, and would have decided unavailable, but shadow rules are only reported."))
        #expect(lines.last == "Decision: block (HTTP 403 and a block page), by rule foreigners-outside — “Foreigners may not enter the intranet.”")
        let unknown = RequestFacts(visitorClass: "foreigner", host: "nowhere.kp", zone: nil)
        let other = Explanation(policy: policy, request: unknown, decision: policy.decide(unknown), howClassWasFound: "x", url: "u").lines
        #expect(other[1] == "Request: GET u — nowhere.kp is not a site of the garden")
        #expect(other.last == "Decision: allow (the page is served), by the default (no rule decided) — “Everything else is open.”")
    }
}

/// How a visitor's class is found: persona, then address range, then the default.
@Suite struct IdentityTests {
    static let policy: Policy = try! Policy.parse(.init(file: "policy.yaml", text: """
    classes:
      citizen: Citizens.
      official: Officials.
      foreigner: Foreigners.
    default_class: citizen
    addresses:
      - clients: [10.20.0.0/16, 192.168.1.50]
        class: official
      - clients: [10.0.0.0/8]
        class: foreigner
    default: allow
    """))

    @Test(arguments: [
        ("foreigner", "10.20.1.1", "foreigner", "the listener's persona"),
        (nil, "10.20.1.1", "official", "the client address is in 10.20.0.0/16 or 192.168.1.50/32"),
        (nil, "192.168.1.50", "official", "the client address is in 10.20.0.0/16 or 192.168.1.50/32"),
        (nil, "10.9.9.9", "foreigner", "the client address is in 10.0.0.0/8"),
        (nil, "172.16.0.1", "citizen", "the default class"),
        (nil, nil, "citizen", "the default class"),
    ] as [(String?, String?, String, String)])
    func classes(persona: String?, client: String?, visitorClass: String, how: String) {
        let found = Self.policy.visitorClass(persona: persona, clientAddress: client.flatMap(IPAddressRange.parseAddress))
        #expect(found.visitorClass == visitorClass)
        #expect(found.how == how)
    }

    @Test func anUnknownClassInAddressesIsPinpointed() {
        do {
            _ = try Policy.parse(.init(file: "policy.yaml", text: """
            classes:
              citizen: Citizens.
            default_class: citizen
            addresses:
              - clients: [10.0.0.0/8]
                class: citizn
            default: allow
            """))
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.map(\.description) == ["policy.yaml:6:12: unknown class 'citizn' (did you mean 'citizen'?); classes are 'citizen'"])
        }
    }
}

/// The `url_keywords` condition: words anywhere in the address, lists included.
@Suite struct URLKeywordTests {
    static let policy: Policy = try! Policy.parse(
        .init(file: "policy.yaml", text: """
        classes:
          citizen: Citizens.
        default_class: citizen
        rules:
          - id: keywords
            reason: Forbidden words.
            url_keywords: [Freedom, "@words"]
            action: block
        default: allow
        """),
        lists: ["words": .init(file: "lists/words.txt", text: "# forbidden\nelection\n김치 # Korean works too\n")]
    )

    @Test(arguments: [
        ("search.example", "/", "q=freedom", "keywords"),
        ("search.example", "/", "q=FREEDOM+now", "keywords"),
        ("search.example", "/", "q=%EA%B9%80%EC%B9%98", "keywords"),
        ("search.example", "/", "q=%zz", "default"),
        ("news.example", "/election/results", "", "keywords"),
        ("freedom.example", "/", "", "keywords"),
        ("news.example", "/sport", "q=table+tennis", "default"),
    ])
    func keywordsAnywhereInTheAddress(host: String, path: String, query: String, rule: String) {
        let facts = RequestFacts(visitorClass: "citizen", host: host, zone: .internet, path: path, query: query)
        #expect(Self.policy.decide(facts).ruleID == rule)
    }

    @Test func theTraceQuotesTheKeywords() {
        let facts = RequestFacts(visitorClass: "citizen", host: "news.example", zone: .internet, path: "/sport")
        #expect(Self.policy.decide(facts).trace.first?.failedCondition?.wording == "the address contains “freedom” or “election” or “김치”")
    }
}

/// Path rules compare bytes: a combining mark after the rule's prefix must not dodge it
/// (`String.hasPrefix` compares grapheme clusters, and `/` + U+0301 is one cluster).
/// Found by the request-target fuzzer.
@Suite struct PathPatternBytesTests {
    @Test(arguments: ["/office/\u{301}x", "/office/\u{1161}", "/office/\u{200D}a", "/office/x"])
    func aPrefixMatchesWhateverFollowsIt(path: String) throws {
        let pattern = try #require(PathPattern("/office/"))
        #expect(pattern.matches(path), "\(path.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test func canonicallyEquivalentButDifferentBytesDoNotMatch() throws {
        // "café" precomposed and decomposed are equal Swift strings, but different paths.
        let pattern = try #require(PathPattern("/caf\u{E9}/"))
        #expect(!pattern.matches("/cafe\u{301}/menu.html"))
        #expect(pattern.matches("/caf\u{E9}/menu.html"))
    }
}
