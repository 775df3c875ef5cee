import Foundation
import GardenPolicy
@testable import GardenServer
import Testing

/// The students' sessions without sockets: a sign-in from another machine binds its
/// address (one student per machine), a session ends with its time, its sign-out, or a
/// new password; moves are kept per student.
@Suite struct StudentSessionsTests {
    static let hash = try! PasswordHash.make(password: "pw", logRounds: PasswordHash.acceptedLogRounds.lowerBound)
    static let accounts = ["ri": Account(name: "ri", visitorClass: "citizen", passwordHash: hash),
                           "kim": Account(name: "kim", visitorClass: "citizen", passwordHash: hash)]
    static let machine: [UInt8] = [10, 0, 0, 23]

    @Test func aSignInFromAnotherMachineIsThatMachinesUntilItEnds() {
        let sessions = StudentSessions()
        #expect(sessions.session(boundTo: Self.machine, accounts: Self.accounts) == nil)
        let first = sessions.start(student: "ri", hash: Self.hash, client: "10.0.0.23", bindingTo: Self.machine)
        #expect(sessions.session(boundTo: Self.machine, accounts: Self.accounts)?.student == "ri")
        #expect(sessions.session(token: first.token, accounts: Self.accounts)?.student == "ri")
        #expect(sessions.signedIn()["ri"]?.addresses == ["10.0.0.23"])
        // Another student on the same machine: the first sign-in there ends.
        _ = sessions.start(student: "kim", hash: Self.hash, client: "10.0.0.23", bindingTo: Self.machine)
        #expect(sessions.session(boundTo: Self.machine, accounts: Self.accounts)?.student == "kim")
        #expect(sessions.session(token: first.token, accounts: Self.accounts) == nil)
        sessions.endSessions(of: "kim")
        #expect(sessions.session(boundTo: Self.machine, accounts: Self.accounts) == nil)
    }

    @Test func aSessionEndsWithItsTimeOrANewPassword() {
        let sessions = StudentSessions()
        sessions.setLifetime(seconds: 0)
        let expired = sessions.start(student: "ri", hash: Self.hash, client: "a", bindingTo: nil)
        #expect(sessions.session(token: expired.token, accounts: Self.accounts) == nil)
        sessions.setLifetime(seconds: 3600)
        let live = sessions.start(student: "ri", hash: Self.hash, client: "a", bindingTo: nil)
        #expect(sessions.session(token: live.token, accounts: Self.accounts) != nil)
        var changed = Self.accounts
        changed["ri"]?.passwordHash = try! PasswordHash.make(password: "new", logRounds: PasswordHash.acceptedLogRounds.lowerBound)
        #expect(sessions.session(token: live.token, accounts: changed) == nil)
        // Gone for good, even under the old hash.
        #expect(sessions.session(token: live.token, accounts: Self.accounts) == nil)
    }

    @Test func movesArePerStudent() {
        let sessions = StudentSessions()
        #expect(sessions.movedClass(of: "ri") == nil)
        sessions.move("ri", to: "official")
        #expect(sessions.movedClass(of: "ri") == "official")
        #expect(sessions.movedClass(of: "kim") == nil)
        sessions.move("ri", to: nil)
        #expect(sessions.moves.isEmpty)
    }

    @Test func aFormTokenIsGoodOnce() {
        let sessions = StudentSessions()
        let token = sessions.newForm()
        #expect(sessions.takeForm(token))
        #expect(!sessions.takeForm(token))
        #expect(!sessions.takeForm("never-handed-out"))
    }
}
