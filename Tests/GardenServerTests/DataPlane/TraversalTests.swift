import Foundation
import Testing

/// Path-traversal attacks from the PayloadsAllTheThings corpus (copied into
/// `Fixtures/traversal/`, MIT licence) plus our own, each sent over a raw socket
/// exactly as written. Every one must be refused (400) or not found (404), and no answer
/// may carry a byte of the secret files planted just outside the site folder.
@Suite(.stopsWhatItStarts) struct TraversalTests {
    /// One garden for the whole table: the attacks do not change it.
    static let garden = Task { try await TestGarden() }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/traversal")

    /// The classic payloads as written and rooted at `/`, and the `{FILE}` payloads aimed at
    /// the planted `etc/passwd` and `secret.txt`.
    static let corpus: [String] = {
        func lines(_ name: String) -> [String] {
            let text = (try? String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        var attacks: [String] = []
        for line in lines("directory_traversal.txt") {
            attacks.append(line)
            if !line.hasPrefix("/") { attacks.append("/" + line) }
        }
        for line in lines("traversals-8-deep-exotic-encoding.txt") {
            attacks.append(line.replacingOccurrences(of: "{FILE}", with: "etc/passwd"))
            attacks.append(line.replacingOccurrences(of: "{FILE}", with: "secret.txt"))
        }
        return attacks
    }()

    /// Our own: each names the rule that stops it.
    static let handWritten: [String] = [
        "/../secret.txt", "/../../secret.txt", "/../../etc/passwd",       // .. segments
        "/%2e%2e/secret.txt", "/%2E%2E/%2E%2E/etc/passwd", "/.%2e/secret.txt", // encoded dots
        "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/docs%2f..%2f..%2fsecret.txt", // encoded /
        "/..%5csecret.txt", "/%5c..%5csecret.txt", "/..\\secret.txt",      // backslashes
        "/%c0%ae%c0%ae/secret.txt", "/%c0%af../secret.txt", "/..%c0%afsecret.txt", // overlong UTF-8
        "/%e0%80%ae%e0%80%ae/secret.txt", "/%ff/secret.txt",               // invalid UTF-8
        "/index.html%00.txt", "/%00", "/page.html%00", "/%0d%0aSet-Cookie:x", // NUL, CR LF
        "/%252e%252e/secret.txt", "/%25%32%65%25%32%65/secret.txt",        // double encoding: decoded once
        "/escape.txt", "/escape-dir/secret.txt", "/escape-dir/etc/passwd",  // symlinks out
        "/.secret", "/.git/config", "/docs/../../secret.txt", "/%", "/%2", "/%zz",
        "..", "../secret.txt", "secret.txt", "*", "//../secret.txt",
    ]

    @Test func corpusIsLargeEnough() {
        #expect(Self.corpus.count >= 1000)
    }

    @Test(arguments: corpus + handWritten)
    func attackIsRefused(path: String) async throws {
        let garden = try await Self.garden.value
        let response = try await garden.raw("GET \(path) HTTP/1.1\r\nHost: alpha.kp\r\nConnection: close\r\n\r\n")
        #expect([400, 404].contains(response.status), "\(path) → \(response.status)")
        #expect(!response.text.contains(TestGarden.outsideSecret), "\(path) leaked a file from outside the site")
        #expect(!response.text.contains("dotfile secret") && !response.text.contains("dotfolder secret"))
    }

    @Test(arguments: ["/a..b.html", "/page.html", "/%ED%95%9C%EA%B8%80.html", "/docs/./guide.html"])
    func legitimateNamesStillWork(path: String) async throws {
        let garden = try await Self.garden.value
        let response = try await garden.get(path)
        #expect(response.status == 200)
    }
}
