import Foundation
import GardenPolicy
import GardenTeaching
import HTTPTypes
import Hummingbird

/// The desk's picture of who sees what (`/matrix`).
extension TeacherDesk {
    /// Every visitor class against every site, each cell coloured by what the class gets
    /// there now and labelled with it; hovering a cell names the rule and its reason.
    func matrixPage(session: TeacherSessions.Session) -> Response {
        let config = currentConfig()
        let matrix = ReachabilityMatrix(config: config, sitesDirectory: sitesDirectory, time: Int64(Date().timeIntervalSince1970))
        var table = "<table class=\"matrix\"><tr><th>class</th>"
        for site in matrix.sites {
            table += "<th>\(Self.escape(site.host))<br><small>\(site.zone.rawValue)</small></th>"
        }
        table += "</tr>"
        for (visitorClass, cells) in zip(matrix.classes, matrix.cells) {
            table += "<tr><th>\(Self.escape(visitorClass))</th>"
            for cell in cells {
                let why = cell.rule.isEmpty ? "" : "\(cell.rule == "default" ? "the default" : "rule \(cell.rule)"): \(cell.reason)"
                table += "<td class=\"m-\(Self.matrixStyle(cell.label))\" title=\"\(Self.escape(why))\">\(Self.escape(cell.label))</td>"
            }
            table += "</tr>"
        }
        table += "</table>"
        let body = """
            <p>What each visitor class gets at each site's home page, now, as the garden would answer it. \
            Hover a cell for the rule that decides. The same table in a terminal: <code>walled-garden matrix</code>.</p>
            \(table)
            <p class="legend"><span class="m-allow">allow</span> <span class="m-rewritten">rewritten</span> \
            <span class="m-throttled">throttled</span> <span class="m-sign-in">sign-in</span> \
            <span class="m-redirect">redirect</span> <span class="m-notfound">not found (the site is hidden)</span> \
            <span class="m-blocked">block, 451, drop, reset, stall</span></p>
            """
        return Self.page(status: .ok, title: "Who sees what", session: session, head: "<style>\(Self.matrixCSS)</style>", body: body)
    }

    /// The colour family of a cell's label.
    static func matrixStyle(_ label: String) -> String {
        switch label {
        case "allow": "allow"
        case "rewritten": "rewritten"
        case "throttled", "rewritten, throttled": "throttled"
        case "sign-in": "sign-in"
        case "redirect": "redirect"
        case "notfound", "no page": "notfound"
        default: "blocked"
        }
    }

    static let matrixCSS = """
        table.matrix{border-collapse:collapse;font-size:1rem}\
        table.matrix th,table.matrix td{border:1px solid #ccc;padding:.4rem .6rem;text-align:center}\
        table.matrix th small{font-weight:normal;color:#666}\
        .m-allow{background:#d8f0d0}.m-rewritten{background:#fff3b0}.m-throttled{background:#ffd8a8}\
        .m-sign-in{background:#e3d4f5}.m-redirect{background:#cfe3ff}.m-notfound{background:#e2e2e2;color:#555}\
        .m-blocked{background:#f7c6c2}.legend span{padding:.1rem .4rem;margin-right:.3rem}
        """
}
