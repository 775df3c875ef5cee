import GardenPolicy
import Testing

/// Who may connect to a listener: `clients:` in garden.yaml, and the default beyond
/// loopback (a persona other than the default class answers the teacher's machine only).
@Suite struct ListenerClientsTests {
    static let sites = GardenConfig.Source(file: "sites.yaml", text: "sites:\n  a.kp: {zone: intranet}\n")

    static func listener(_ yaml: String) throws -> GardenConfig.Listener {
        let garden = GardenConfig.Source(file: "garden.yaml", text: "listeners:\n  - " + yaml + "\nportal: a.kp\n")
        let policy = GardenConfig.Source(
            file: "policy.yaml", text: "classes: {citizen: C., official: O.}\ndefault_class: citizen\nrules: []\ndefault: allow\n"
        )
        return try #require(try GardenConfig.parse(garden: garden, sites: sites, policy: policy).listeners.first)
    }

    @Test(arguments: [
        ("{address: 127.0.0.1:8081, persona: official}", ListenerClients.anyone),
        ("{address: 0.0.0.0:8081, persona: official}", .teacher),
        ("{address: 0.0.0.0:8080, persona: citizen}", .anyone),
        ("{address: 0.0.0.0:8080}", .anyone),
        ("{address: 0.0.0.0:8081, persona: official, clients: anyone}", .anyone),
        ("{address: 127.0.0.1:8080, persona: citizen, clients: teacher}", .teacher),
        ("{address: 0.0.0.0:8081, persona: official, clients: [10.1.2.0/24]}", .ranges([IPAddressRange("10.1.2.0/24")!])),
    ])
    func whoMayConnect(yaml: String, admitted: ListenerClients) throws {
        #expect(try Self.listener(yaml).admitted(defaultClass: "citizen") == admitted)
    }

    @Test func aMistakeIsPinpointed() {
        let garden = GardenConfig.Source(file: "garden.yaml", text: "listeners:\n  - {address: 0.0.0.0:8081, clients: everyone}\nportal: a.kp\n")
        let errors = #expect(throws: ConfigErrors.self) { try GardenConfig.parse(garden: garden, sites: Self.sites) }
        #expect(errors?.diagnostics.map(\.description).contains {
            $0.hasPrefix("garden.yaml:2:") && $0.contains("clients must be anyone, teacher (this machine only) or a list of address ranges, not 'everyone'")
        } == true)
    }

    @Test func rangesAdmitTheirAddressesOnly() {
        let clients = ListenerClients.ranges([IPAddressRange("10.1.2.0/24")!])
        #expect(clients.admits([10, 1, 2, 7]) { _ in true })
        #expect(!clients.admits([10, 1, 3, 7]) { _ in true })
        #expect(ListenerClients.teacher.admits([192, 0, 2, 9]) { _ in false } == false)
        #expect(ListenerClients.teacher.admits([127, 0, 0, 1]) { $0.first == 127 })
    }
}
