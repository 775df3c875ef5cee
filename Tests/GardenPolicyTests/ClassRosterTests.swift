import Foundation
import GardenPolicy
import Testing

/// Reading the class roster (`classroom.yaml`) and its password hashes: students with a
/// password become accounts of their class; every mistake is reported at its
/// `file:line:column`.
@Suite struct ClassRosterTests {
    static let roster = """
    session: 2h
    students:
      ri-su-jong: citizen
      choe-myong-il: official
    """

    static func parse(_ roster: String, passwords: String? = nil) throws(ConfigErrors) -> GardenConfig {
        try GardenConfig.parse(
            garden: .init(file: "Config/garden.yaml", text: GardenConfigTests.goodGarden),
            sites: .init(file: "Config/sites.yaml", text: GardenConfigTests.goodSites),
            policy: .init(file: "Config/policy.yaml", text: AccountTests.text),
            classroom: .init(file: "Config/classroom.yaml", text: roster),
            classroomPasswords: passwords.map { .init(file: "Config/classroom-passwords", text: $0) }
        )
    }

    @Test func studentsWithAPasswordAreAccountsOfTheirClass() throws {
        let config = try Self.parse(Self.roster, passwords: "# hashes\nri-su-jong \(AccountTests.kimHash)\nleft-the-class \(AccountTests.leeHash)\n")
        #expect(config.roster.students.map(\.name) == ["ri-su-jong", "choe-myong-il"])
        #expect(config.roster.students.map(\.hasPassword) == [true, false])
        #expect(config.roster.sessionSeconds == 7200)
        #expect(config.policy.accounts["ri-su-jong"]?.visitorClass == "citizen")
        #expect(config.policy.accounts["ri-su-jong"]?.passwordHash.verify(Array("kim".utf8)) == true)
        #expect(config.policy.accounts["choe-myong-il"] == nil, "no password yet: cannot sign in")
        #expect(config.policy.accounts["left-the-class"] == nil)
        // The policy's own accounts stay.
        #expect(config.policy.accounts["kim"] != nil)
    }

    @Test func aRosterOfCommentsOnlyIsEmpty() throws {
        #expect(try Self.parse("# nobody yet\n").roster.students.isEmpty)
    }

    @Test(arguments: [
        ("  ri-su-jong: citizen", "  ri-su-jong: citzen",
         "Config/classroom.yaml:3:15: unknown class 'citzen' (did you mean 'citizen'?); classes are 'citizen', 'foreigner', 'official'"),
        ("  ri-su-jong: citizen", "  ri su jong: citizen",
         "Config/classroom.yaml:3:3: 'ri su jong' cannot be a student's name: letters, digits, '-', '_' and '.' only (at most 40), as typed on the sign-in form"),
        ("  ri-su-jong: citizen", "  kim: citizen",
         "Config/classroom.yaml:3:3: 'kim' is already an account in policy.yaml; a student needs a name of their own"),
        ("session: 2h", "session: forever", "Config/classroom.yaml:1:10: session must be a duration such as 500ms, 10s or 2m, not 'forever'"),
        ("students:", "pupils:", "Config/classroom.yaml:2:1: unknown key 'pupils' in classroom.yaml; known keys: 'students', 'session'"),
    ])
    func mistakesAreReportedWhereTheyAre(original: String, edited: String, expected: String) {
        #expect(Self.diagnostics(Self.roster.replacingOccurrences(of: original, with: edited)).contains(expected),
                "\(Self.diagnostics(Self.roster.replacingOccurrences(of: original, with: edited)))")
    }

    @Test func aBadPasswordLineIsReportedAtItsLine() {
        let found = Self.diagnostics(Self.roster, passwords: "# hashes\nri-su-jong juche\nchoe-myong-il\n")
        #expect(found == [
            "Config/classroom-passwords:2:1: the password of 'ri-su-jong' is not a password hash; make one with `walled-garden hash-password` (it starts with $scrypt$); make new ones with walled-garden classroom passwords",
            "Config/classroom-passwords:3:1: a line here is a student's name and a password hash; make new ones with walled-garden classroom passwords",
        ])
    }

    static func diagnostics(_ roster: String, passwords: String? = nil) -> [String] {
        do {
            _ = try parse(roster, passwords: passwords)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }
}
