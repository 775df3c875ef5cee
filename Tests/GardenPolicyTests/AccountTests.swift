import Foundation
import GardenPolicy
import Testing

/// Accounts: scrypt hashes in config (never plaintext), identity order account > persona >
/// address > default, and the conditions and action that go with signing in.
@Suite struct AccountTests {
    /// Made with `walled-garden hash-password --cost 10` (passwords "kim" and "lee"):
    /// the lowest accepted cost keeps the tests fast.
    static let kimHash = "$scrypt$ln=10,r=8,p=1$UwjDKCb3edFgdiJwhoM7FQ$vNtQOl/T3oE9qvM4LWl1h56c+pY2aDEWXATGsLrCjDM"
    static let leeHash = "$scrypt$ln=10,r=8,p=1$yozwQKhWkLDRLJHM7L1v+A$SPNho7xyu+FvtyT3D+XZFtSuOS7rEeiZ4ldKuXY2aQI"

    static let text = """
    classes:
      citizen: Everyone.
      official: Officials.
      foreigner: Guests.
    default_class: citizen
    addresses:
      - clients: [10.99.0.0/16]
        class: foreigner
    realm: Kwangmyong
    accounts:
      kim: {class: official, password: "\(kimHash)"}
      lee: {class: citizen, password: "\(leeHash)"}
    rules:
      - id: office-needs-sign-in
        reason: The office is for officials who signed in.
        paths: [/office/]
        signed_in: false
        action: authenticate
      - id: kim-is-watched
        reason: Kim is watched closely.
        accounts: [kim]
        effects: [monitor]
      - id: officials-everywhere
        reason: Officials see everything.
        classes: [official]
        action: allow
    default: notfound
    """

    static let policy: Policy = try! Policy.parse(.init(file: "Config/policy.yaml", text: text))

    @Test func hashesVerifyTheirPasswordOnly() throws {
        let kim = try #require(Self.policy.accounts["kim"])
        #expect(kim.visitorClass == "official")
        #expect(kim.passwordHash.verify(Array("kim".utf8)))
        #expect(!kim.passwordHash.verify(Array("Kim".utf8)))
        #expect(!kim.passwordHash.verify(Array("kim ".utf8)))
        #expect(!kim.passwordHash.verify([]))
        #expect(Self.policy.realm == "Kwangmyong")
    }

    /// RFC 7914 §12, the second test vector: scrypt itself is right.
    @Test func scryptMatchesRFC7914() {
        let expected: [UInt8] = [
            0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56, 0xe7, 0x19, 0x0d, 0x01, 0xe9, 0xfe,
            0x7c, 0x6a, 0xd7, 0xcb, 0xc8, 0x23, 0x78, 0x30, 0xe7, 0x73, 0x76, 0x63, 0x4b, 0x37, 0x31, 0x62,
            0x2e, 0xaf, 0x30, 0xd9, 0x2e, 0x22, 0xa3, 0x88, 0x6f, 0xf1, 0x09, 0x27, 0x9d, 0x98, 0x30, 0xda,
            0xc7, 0x27, 0xaf, 0xb9, 0x4a, 0x83, 0xee, 0x6d, 0x83, 0x60, 0xcb, 0xdf, 0xa2, 0xcc, 0x06, 0x40,
        ]
        let hash = PasswordHash(logRounds: 10, blockSize: 8, parallelism: 16, salt: Array("NaCl".utf8), digest: expected)
        #expect(hash.verify(Array("password".utf8)))
        #expect(!hash.verify(Array("passwore".utf8)))
    }

    @Test func madeHashesRoundTripThroughTheirText() throws {
        let made = try PasswordHash.make(password: "비밀번호", logRounds: 10)
        let read = try PasswordHash.parse(made.description).get()
        #expect(read == made)
        #expect(read.verify(Array("비밀번호".utf8)))
        // A fresh salt each time: the same password never gives the same text.
        #expect(try PasswordHash.make(password: "비밀번호", logRounds: 10).description != made.description)
    }

    @Test(arguments: [
        ("kim", nil, nil, "official", "signed in as kim"),
        ("kim", "foreigner", nil, "official", "signed in as kim"),
        (nil, "foreigner", "10.99.1.1", "foreigner", "the listener's persona"),
        (nil, nil, "10.99.1.1", "foreigner", "the client address is in 10.99.0.0/16"),
        (nil, nil, "10.1.1.1", "citizen", "the default class"),
        ("nobody", nil, nil, "citizen", "the default class"),
    ] as [(String?, String?, String?, String, String)])
    func identityOrder(account: String?, persona: String?, client: String?, visitorClass: String, how: String) {
        let found = Self.policy.visitorClass(
            account: account, persona: persona, clientAddress: client.flatMap(IPAddressRange.parseAddress)
        )
        #expect(found.visitorClass == visitorClass)
        #expect(found.how == how)
    }

    /// What `explain` and `reveal` use: the account, else `--as`, else the address.
    @Test(arguments: [
        ("kim", "foreigner", nil, "official", "signed in as kim"),
        ("nobody", "foreigner", nil, "foreigner", "from --as"),
        (nil, "foreigner", "10.1.1.1", "foreigner", "from --as"),
        (nil, nil, "10.99.1.1", "foreigner", "the client address is in 10.99.0.0/16"),
        (nil, nil, nil, "citizen", "the default class"),
    ] as [(String?, String?, String?, String, String)])
    func aTeachersVisitor(account: String?, named: String?, client: String?, visitorClass: String, how: String) {
        let found = Self.policy.visitorClass(account: account, named: named, clientAddress: client.flatMap(IPAddressRange.parseAddress))
        #expect(found.visitorClass == visitorClass)
        #expect(found.how == how)
    }

    @Test(arguments: [
        (nil, "/office/", "office-needs-sign-in", "authenticate"),
        ("lee", "/office/", "default", "notfound"),
        ("kim", "/office/", "officials-everywhere", "allow"),
        ("kim", "/", "officials-everywhere", "allow"),
    ] as [(String?, String, String, String)])
    func signingInChangesTheDecision(account: String?, path: String, rule: String, action: String) {
        let visitorClass = Self.policy.visitorClass(account: account, persona: nil, clientAddress: nil).visitorClass
        let facts = RequestFacts(visitorClass: visitorClass, host: "kwangmyong.kp", zone: .intranet, path: path, account: account)
        let decision = Self.policy.decide(facts)
        #expect(decision.ruleID == rule)
        #expect(decision.action.name == action)
        #expect(decision.effects.contains(.monitor) == (account == "kim"))
    }

    static func diagnostics(_ edit: (String) -> String) -> [String] {
        do {
            _ = try Policy.parse(.init(file: "Config/policy.yaml", text: edit(text)))
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test(arguments: [
        ("password: \"\(kimHash)\"", "password: \"juche\"",
         "Config/policy.yaml:11:36: the password of account 'kim' is not a password hash; make one with `walled-garden hash-password` (it starts with $scrypt$)"),
        ("$scrypt$ln=10,r=8,p=1$Uwj", "$scrypt$ln=4,r=8,p=1$Uwj",
         "Config/policy.yaml:11:36: the password of account 'kim' has cost ln=4; it must be between 10 and 22"),
        ("kim: {class: official,", "kim: {class: offical,",
         "Config/policy.yaml:11:16: unknown class 'offical' (did you mean 'official'?); classes are 'citizen', 'foreigner', 'official'"),
        ("accounts: [kim]", "accounts: [kin]",
         "Config/policy.yaml:21:16: unknown account 'kin' (did you mean 'kim'?); accounts are 'kim', 'lee'"),
        ("signed_in: false", "signed_in: maybe", "Config/policy.yaml:17:16: signed_in must be true or false, not 'maybe'"),
        ("realm: Kwangmyong", "realm: 'Kwang\"myong'", "Config/policy.yaml:9:8: realm must be plain text without quotes or control characters"),
        ("kim: {class: official,", "kim: {clas: official,",
         "Config/policy.yaml:11:9: unknown key 'clas' in account 'kim' (did you mean 'class'?); known keys: 'class', 'password'"),
    ])
    func mistakesArePinpointed(from: String, to: String, expected: String) {
        let found = Self.diagnostics { $0.replacingOccurrences(of: from, with: to) }
        #expect(found.contains(expected), "\(found)")
    }
}
