import Foundation
import GardenSites
import Logging
import NIOCore
import Testing

/// Loading site folders from real files: what is served, what is never served, and
/// how changes on disk are picked up.
@Suite struct SiteLoaderTests {
    final class Folder {
        let root: URL
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("sites-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: root) }

        func write(_ path: String, _ text: String) throws {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }

        func link(_ path: String, to destination: String) throws {
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(path).path, withDestinationPath: destination)
        }
    }

    static var quiet: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }

    @Test func servesRegularFilesAndNothingElse() throws {
        let folder = try Folder()
        try folder.write("site/index.html", "home")
        try folder.write("site/sub/page.html", "page")
        try folder.write("site/.env", "SECRET=1")
        try folder.write("site/.git/HEAD", "ref")
        try folder.write("site/sub/.hidden.html", "hidden")
        try folder.write("outside.txt", "outside")
        try folder.link("site/out.txt", to: folder.root.appendingPathComponent("outside.txt").path)
        try folder.link("site/up", to: "..")
        try folder.link("site/alias.html", to: "sub/page.html")
        try folder.link("site/dangling.html", to: "nowhere.html")
        mkfifo(folder.root.appendingPathComponent("site/pipe").path, 0o600)

        let library = try SiteLibrary(root: folder.root.path, folders: ["site"], logger: Self.quiet)
        let content = try #require(library.content(folder: "site"))
        #expect(Set(content.files.keys) == ["index.html", "sub/page.html", "alias.html"])
        #expect(content.directories == ["", "sub"])
        #expect(content.files["alias.html"].map { String(buffer: $0.body) } == "page")
    }

    @Test func missingFolderIsAnError() throws {
        let folder = try Folder()
        #expect(throws: SiteLoadError.self) {
            try SiteLibrary(root: folder.root.path, folders: ["nope"], logger: Self.quiet)
        }
    }

    @Test func refreshPicksUpEditsAndKeepsUnchangedFiles() throws {
        let folder = try Folder()
        try folder.write("site/index.html", "v1")
        try folder.write("site/keep.html", "same")
        let library = try SiteLibrary(root: folder.root.path, folders: ["site"], logger: Self.quiet)
        #expect(library.refresh(logger: Self.quiet).isEmpty)

        try folder.write("site/index.html", "version two")
        try folder.write("site/added.html", "new")
        #expect(library.refresh(logger: Self.quiet) == ["site"])
        let content = try #require(library.content(folder: "site"))
        #expect(content.files["index.html"].map { String(buffer: $0.body) } == "version two")
        #expect(content.files["added.html"] != nil)

        // Save by rename, as many editors do.
        try folder.write("site/index.tmp", "version three")
        _ = rename(folder.root.appendingPathComponent("site/index.tmp").path, folder.root.appendingPathComponent("site/index.html").path)
        #expect(library.refresh(logger: Self.quiet) == ["site"])
        #expect(library.content(folder: "site")?.files["index.html"].map { String(buffer: $0.body) } == "version three")
    }

    @Test func vanishedFolderKeepsTheLastGoodCopy() throws {
        let folder = try Folder()
        try folder.write("site/index.html", "still here")
        let library = try SiteLibrary(root: folder.root.path, folders: ["site"], logger: Self.quiet)
        try FileManager.default.removeItem(at: folder.root.appendingPathComponent("site"))
        library.refresh(logger: Self.quiet)
        #expect(library.content(folder: "site")?.files["index.html"].map { String(buffer: $0.body) } == "still here")
    }

    @Test(arguments: [
        ("/", "index.html"),
        ("/sub/", "sub/index.html"),
        ("/sub/page.html", "sub/page.html"),
    ])
    func resolvesFiles(path: String, file: String) throws {
        let content = Self.sampleContent
        guard case .file(let found) = content.resolve(try RequestPath.parse(path).get()) else {
            Issue.record("\(path) did not resolve to a file")
            return
        }
        #expect(String(buffer: found.body) == file)
    }

    @Test(arguments: [("/sub", "/sub/"), ("/sub?x=1", "/sub/?x=1"), ("/empty", "/empty/")])
    func redirectsDirectories(path: String, location: String) throws {
        guard case .redirect(let found) = Self.sampleContent.resolve(try RequestPath.parse(path).get()) else {
            Issue.record("\(path) did not redirect")
            return
        }
        #expect(found == location)
    }

    @Test(arguments: ["/missing", "/empty/", "/sub/page.html/", "/sub/missing/"])
    func missingIsNotFound(path: String) throws {
        guard case .notFound = Self.sampleContent.resolve(try RequestPath.parse(path).get()) else {
            Issue.record("\(path) was found")
            return
        }
    }

    static let sampleContent: SiteContent = {
        var files: [String: StaticFile] = [:]
        for path in ["index.html", "sub/index.html", "sub/page.html", "empty/file.txt"] {
            files[path] = StaticFile(bytes: Array(path.utf8), fileName: path, lastModified: 0)
        }
        return SiteContent(files: files)
    }()
}
