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
    /// until it returns false.
    func forEachCandidate(host: String, visitorClass: String, _ body: (Int) -> Bool) {
        // A handful of lists: always, class, exact host, one per parent domain. They are
        // gathered in a small buffer on the stack: no allocation per decision.
        withUnsafeTemporaryAllocation(of: ArraySlice<Int32>.self, capacity: Self.maxLists) { buffer in
            var count = 0
            func add(_ list: [Int32]?) {
                guard let list, count < Self.maxLists else { return }
                buffer.initializeElement(at: count, to: list[...])
                count += 1
            }
            if !always.isEmpty { add(always) }
            add(byClass[visitorClass])
            add(byName[host])
            if hasDomains {
                HostSet.forEachParentDomain(of: host) { domain in
                    add(byDomain[domain])
                    return count < Self.maxLists
                }
            }
            merge(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]), body)
            buffer.baseAddress!.deinitialize(count: count)
        }
    }

    /// Lists a request can draw on: always, class, exact name and one per parent domain.
    /// A host name has at most 253 bytes, so at most 127 labels (`HostName` refuses
    /// longer ones): every parent domain fits, and none can be skipped to dodge a rule.
    private static let maxLists = 3 + 127

    private func merge(_ lists: UnsafeMutableBufferPointer<ArraySlice<Int32>>, _ body: (Int) -> Bool) {
        if lists.isEmpty { return }
        if lists.count == 1 {
            for index in lists[0] where !body(Int(index)) { return }
            return
        }
        // Merge by taking the smallest head each time; a rule filed twice (a name and a
        // domain of the same rule) is visited once.
        var last: Int32 = -1
        while true {
            var best = -1
            for (number, list) in lists.enumerated() where !list.isEmpty {
                if best < 0 || list.first! < lists[best].first! { best = number }
            }
            if best < 0 { return }
            let index = lists[best].first!
            lists[best] = lists[best].dropFirst()
            if index == last { continue }
            last = index
            if !body(Int(index)) { return }
        }
    }
}
