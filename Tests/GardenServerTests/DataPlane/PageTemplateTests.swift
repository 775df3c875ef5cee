import Foundation
import GardenPolicy
@testable import GardenServer
import Testing

/// The garden's own pages come from Mustache templates in `Config/templates/`: the shipped
/// ones are the built-in ones, values are escaped, a broken template is pinpointed, and
/// an edited template is live after a reload (a broken edit keeps the last good pages).
@Suite(.stopsWhatItStarts) struct PageTemplateTests {
    static let repository = ConfigCheckTests.repository

    @Test func theShippedTemplatesAreTheBuiltInOnes() throws {
        let folder = Shipped.root.appendingPathComponent("Config/templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") }
        #expect(Set(names.map { String($0.dropLast(".mustache".count)) }) == Set(GardenPages.names))
        #expect(try GardenPages(portalHost: "p.kp").banner(named: "banner", host: "a.kp", visitorClass: "citizen")?
            .contains("approved by the state") == true)
        for name in names {
            let shipped = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let key = String(name.dropLast(".mustache".count))
            #expect(DefaultTemplates.sources[key].map { $0 + "\n" } == shipped, "run Scripts/embed-templates.py after editing \(name)")
        }
    }

    @Test func everyBuiltInPageRendersInWorldWithTheFooter() throws {
        let pages = try GardenPages(portalHost: "kwangmyong.kp")
        let rendered = [
            pages.unknownHost("nowhere.kp"), pages.blocked("friend.com.kp"), pages.missingPage,
            pages.unavailable("worldnews.example", authority: "http://kwangmyong.kp/authority.html"),
            pages.signIn(host: "kwangmyong.kp", realm: "Kwangmyong", problem: "wrong name or password"),
            pages.moved(to: "http://kwangmyong.kp/"), pages.error(status: .badRequest, reason: "bad"),
        ]
        for html in rendered {
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(html.contains("a classroom simulation"))
            #expect(html.contains("href=\"http://kwangmyong.kp/\""))
            #expect(!html.contains("Teacher's note"))
            #expect(!html.contains("{{"))
        }
        #expect(rendered[3].contains("href=\"http://kwangmyong.kp/authority.html\""))
        #expect(rendered[4].contains("wrong name or password"))
        #expect(rendered[6].contains("400 Bad Request"))
    }

    @Test func valuesAreEscapedAndTheTeachersNoteAppearsOnlyWhenGiven() throws {
        let pages = try GardenPages(portalHost: "kwangmyong.kp")
        let note = GardenPages.TeachersNote(rule: "no-<b>", reason: "Because \"reasons\" & more", visitorClass: "citizen")
        let html = pages.blocked("<script>alert(1)</script>.kp", teachersNote: note)
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.kp"))
        #expect(html.contains("Teacher's note"))
        #expect(html.contains("no-&lt;b&gt;"))
        #expect(html.contains("Because &quot;reasons&quot; &amp; more"))
    }

    @Test func aConfigTemplateReplacesTheBuiltInOne() throws {
        let pages = try GardenPages(portalHost: "p.kp", templates: [
            "blocked": .init(file: "Config/templates/blocked.mustache", text: "{{<layout}}{{$body}}<p>NO ENTRY to {{host}}</p>{{/body}}{{/layout}}"),
        ])
        let html = pages.blocked("friend.com.kp")
        #expect(html.contains("<p>NO ENTRY to friend.com.kp</p>"))
        #expect(html.contains("a classroom simulation"))  // the built-in layout still frames it
    }

    @Test func namedBannersComeFromTheirTemplates() throws {
        let pages = try GardenPages(portalHost: "p.kp", templates: [
            "banner-exam": .init(file: "Config/templates/banner-exam.mustache", text: "<p>Exams on {{host}} for {{class}}</p>"),
        ])
        #expect(pages.banner(named: "banner-exam", host: "a.kp", visitorClass: "citizen") == "<p>Exams on a.kp for citizen</p>")
        #expect(pages.banner(named: "banner-none", host: "a.kp", visitorClass: "citizen") == nil)
    }

    @Test func aRuleNamingAMissingBannerIsAConfigError() throws {
        let copy = try ConfigCheckTests.Copy()
        try copy.edit("Config/policy.yaml") { $0.replacingOccurrences(of: "links: neutralise           # or remove, keep", with: "banner: banner-exma") }
        do {
            _ = try ConfigDirectory(path: copy.config).load()
            Issue.record("accepted")
        } catch {
            #expect(error.diagnostics.map(\.description).contains {
                $0.hasPrefix("\(copy.config)/policy.yaml:")
                    && $0.hasSuffix(": rule 'citizens-read-approved-words' asks for the banner 'banner-exma', but there is no \(copy.config)/templates/banner-exma.mustache")
            }, "\(error.diagnostics)")
        }
    }

    @Test(arguments: [
        ("blocked", "{{#teacher}}\n<p>oops</p>\n", "Config/templates/blocked.mustache:3:1: template error: a section {{#...}} is never closed"),
        ("blocked", "<p>{{host</p>", "Config/templates/blocked.mustache:1:10: template error: a tag is not finished (missing }})"),
        ("blockd", "<p>hi</p>", "Config/templates/blockd.mustache: no page is called 'blockd' (did you mean 'blocked'?); templates are layout.mustache, notfound.mustache, blocked.mustache, unavailable.mustache, sign-in.mustache, moved.mustache, missing-page.mustache, error.mustache, banner.mustache and banner-NAME.mustache"),
    ])
    func brokenTemplatesArePinpointed(name: String, text: String, expected: String) {
        do {
            _ = try GardenPages(portalHost: "p.kp", templates: [name: .init(file: "Config/templates/\(name).mustache", text: text)])
            Issue.record("accepted")
        } catch {
            #expect(error.diagnostics.map(\.description) == [expected])
        }
    }

    @Test func anEditedTemplateIsLiveAndABrokenOneKeepsTheLastGoodPages() async throws {
        let garden = try await ReloadTests.LiveGarden()
        defer { afterTest { await garden.server.shutdown() } }
        func page() async throws -> String {
            let response = try await RawConnection.exchange(
                port: garden.port, send: Array("GET / HTTP/1.1\r\nHost: nowhere.kp\r\nConnection: close\r\n\r\n".utf8), timeout: 5
            )
            return response.bodyText
        }
        #expect(try await page().contains("does not exist on the national network"))
        try garden.copy.edit("Config/templates/notfound.mustache") { _ in "{{<layout}}{{$body}}<p>GONE: {{host}}</p>{{/body}}{{/layout}}" }
        #expect(garden.reloader.reload(reason: "test"))
        #expect(try await page().contains("<p>GONE: nowhere.kp</p>"))
        try garden.copy.edit("Config/templates/notfound.mustache") { _ in "{{#broken}}" }
        #expect(!garden.reloader.reload(reason: "test"))
        #expect(garden.reloader.lastErrors.first?.hasSuffix("templates/notfound.mustache:1:12: template error: a section {{#...}} is never closed") == true,
                "\(garden.reloader.lastErrors)")
        #expect(try await page().contains("<p>GONE: nowhere.kp</p>"))
    }
}
