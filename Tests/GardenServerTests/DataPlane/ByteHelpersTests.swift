import GardenPolicy
@testable import GardenServer
import GardenSites
import NIOCore
import Testing

/// The byte-level helpers the planner uses on every request, against the `String`
/// operations they replace.
@Suite struct PlannerBytesTests {
    @Test(arguments: [
        "/", "/index.html", "/a/b/", "/a//b", "/%ED%95%9C%EA%B8%80/", "/a%20b.html", "/x/./y/", "/office/",
    ])
    func thePolicysPathIsTheSlashJoinedDecodedPath(raw: String) throws {
        let path = try RequestPath.parse(raw).get()
        let joined = "/" + path.relativePath + (path.hasTrailingSlash && !path.relativePath.isEmpty ? "/" : "")
        #expect(RequestFacts.policyPath(path) == joined)
    }

    @Test(arguments: [
        ("/sign-in", true), ("http://kwangmyong.kp/sign-in", true), ("/sign-in?x", false), ("/n", false), ("", false),
        ("/sign-ina", false), ("sign-in", false), ("/한/sign-in", true),
    ] as [(String, Bool)])
    func aTargetEndsWithTheSignInPathByItsBytes(target: String, expected: Bool) {
        #expect(ExchangePlanner.target(target, endsWith: "/sign-in") == expected)
        #expect(ExchangePlanner.target(target, endsWith: "/sign-in") == target.hasSuffix("/sign-in"))
    }
}

/// A field line written in one go is the line written piece by piece.
@Suite struct FieldLineTests {
    @Test(arguments: [("Accept", "text/html"), ("X-Empty", ""), ("Cookie", "a=1; b=2"), ("X-Long", String(repeating: "v", count: 5000))])
    func oneWriteIsFourWrites(name: String, value: String) {
        var piecewise = ByteBuffer()
        piecewise.writeString("GET / HTTP/1.1\r\n")
        var inOneGo = piecewise
        piecewise.writeString(name)
        piecewise.writeStaticString(": ")
        piecewise.writeString(value)
        piecewise.writeStaticString("\r\n")
        Array(name.utf8).withUnsafeBytes { name in
            Array(value.utf8).withUnsafeBytes { value in UpstreamRequest.writeFieldLine(name, value, into: &inOneGo) }
        }
        #expect(inOneGo == piecewise)
        var fromStrings = ByteBuffer()
        fromStrings.writeString("GET / HTTP/1.1\r\n")
        UpstreamRequest.writeFieldLine(name, value, into: &fromStrings)
        #expect(fromStrings == piecewise)
    }
}

/// The token test by bit masks is RFC 9110's `tchar` for every byte.
@Suite struct TokenCharacterTests {
    @Test func theMasksAreTheRFCsCharacters() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(byte.isTokenCharacter == tchar.contains(byte), "byte \(byte)")
        }
    }
}
