/// Which rules can possibly match a request, found by hashing instead of by walking
/// every rule, so a decision costs about the same with ten rules or ten thousand.
///
/// Each rule is filed under its most selective condition: the hosts it names (exact
/// names and `*.domain` patterns), else the classes it names, else nowhere in
/// particular (`always`: looked at for every request). A request's candidates are
/// the rules filed under its host, its host's parent domains, its class, and `always`,
/// merged back into file order — so the first matching rule is the same one a full
/// top-to-bottom walk would find.
struct RuleIndex: Sendable {
    private var always: [Int32] = []
    private var byName: [String: [Int32]] = [:]
    private var byDomain: [Substring: [Int32]] = [:]
    private var byClass: [String: [Int32]] = [:]
    /// Whether any rule is filed by domain (else parent domains need not be looked up).
    private var hasDomains = false

    init(_ rules: [Rule]) {
        for (position, rule) in rules.enumerated() {
            let index = Int32(position)
            if let hosts = rule.conditions.lazy.compactMap({ condition -> HostSet? in
                if case .hosts(let hosts) = condition { return hosts }
                return nil
            }).first {
                for name in hosts.names { byName[name, default: []].append(index) }
                for domain in hosts.domains { byDomain[domain, default: []].append(index) }
                hasDomains = hasDomains || !hosts.domains.isEmpty
            } else if let classes = rule.conditions.lazy.compactMap({ condition -> Set<String>? in
                if case .classes(let names) = condition { return names }
                return nil
            }).first {
                for name in classes { byClass[name, default: []].append(index) }
            } else {
                always.append(index)
            }
        }
    }

    /// Calls `body` with the position of every rule that may match, in file order,
    /// until it returns false. Allocates nothing unless a host has more than two parent
    /// domains with rules filed under them (then those lists are joined once).
    func forEachCandidate(host: String, visitorClass: String, _ body: (Int) -> Bool) {
        let empty = Self.empty
        let classList = byClass[visitorClass] ?? empty
        let nameList = byName[host] ?? empty
        var domainLists = (empty, empty)
        if hasDomains {
            var found = 0
            var extra: [Int32] = []
            HostSet.forEachParentDomain(of: host) { domain in
                guard let list = byDomain[domain] else { return true }
                switch found {
                case 0: domainLists.0 = list
                case 1: domainLists.1 = list
                default: extra += list
                }
                found += 1
                return true
            }
            if !extra.isEmpty { domainLists.1 = (domainLists.1 + extra).sorted() }
        }
        // Five sorted lists, merged by taking the smallest head each time; a rule filed
        // under several of them (a name and a domain of the same rule) is visited once.
        var cursors = (0, 0, 0, 0, 0)
        var last: Int32 = -1
        while true {
            let heads = (
                cursors.0 < always.count ? always[cursors.0] : Int32.max,
                cursors.1 < classList.count ? classList[cursors.1] : Int32.max,
                cursors.2 < nameList.count ? nameList[cursors.2] : Int32.max,
                cursors.3 < domainLists.0.count ? domainLists.0[cursors.3] : Int32.max,
                cursors.4 < domainLists.1.count ? domainLists.1[cursors.4] : Int32.max
            )
            let next = min(heads.0, heads.1, heads.2, heads.3, heads.4)
            if next == Int32.max { return }
            if heads.0 == next { cursors.0 += 1 }
            if heads.1 == next { cursors.1 += 1 }
            if heads.2 == next { cursors.2 += 1 }
            if heads.3 == next { cursors.3 += 1 }
            if heads.4 == next { cursors.4 += 1 }
            if next == last { continue }
            last = next
            if !body(Int(next)) { return }
        }
    }

    private static let empty: [Int32] = []
}
