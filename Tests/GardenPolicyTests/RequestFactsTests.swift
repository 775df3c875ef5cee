import GardenPolicy
import Testing

/// The optional facts kept behind their accessors read back as they were set.
@Suite struct RequestFactsTests {
    @Test(arguments: [nil, "kim", ""] as [String?])
    func theAccountReadsBackAsSet(account: String?) {
        var facts = RequestFacts(visitorClass: "citizen", host: "a.kp", zone: .intranet, account: account)
        #expect(facts.account == account)
        facts.account = nil
        #expect(facts.account == nil)
        facts.account = account
        #expect(facts.account == account)
        #expect(facts == RequestFacts(visitorClass: "citizen", host: "a.kp", zone: .intranet, account: account))
        #expect(facts != RequestFacts(visitorClass: "citizen", host: "a.kp", zone: .intranet, account: account == nil ? "x" : nil))
    }

    @Test(arguments: [nil, [10, 0, 0, 7], Array(repeating: 0, count: 15) + [1]] as [[UInt8]?])
    func theClientAddressReadsBackAsSet(address: [UInt8]?) {
        var facts = RequestFacts(visitorClass: "citizen", clientAddress: address, host: "a.kp", zone: nil)
        #expect(facts.clientAddress == address)
        facts.clientAddress = [192, 168, 1, 1]
        #expect(facts.clientAddress == [192, 168, 1, 1])
        facts.clientAddress = nil
        #expect(facts.clientAddress == nil)
    }
}
