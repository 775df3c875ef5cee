import GardenPolicy
import GardenServer

/// The sign-in cards, one per student, as a page to print (A4 or Letter, eight to a
/// sheet, cut along the dashed lines): the address to open, the name and the password.
/// Made once, when the passwords are made; the garden keeps only their hashes.
public enum SignInCards {
    /// - Parameters:
    ///   - cards: the new passwords.
    ///   - addresses: where students sign in (`http://192.168.1.20:8080/sign-in`), the
    ///     first printed large, the others small.
    ///   - title: the page's title; `intro` a paragraph shown on screen only.
    public static func html(cards: [ClassroomPasswords.Card], addresses: [String], intro: String = "") -> String {
        let place = addresses.first ?? "http://localhost:8080/sign-in"
        let others = addresses.dropFirst()
        var body = ""
        for card in cards {
            body += """
                <section class="card"><p class="where">Open <strong>\(HTMLText.escape(place))</strong>\
                \(others.isEmpty ? "" : "<br><small>or \(others.map(HTMLText.escape).joined(separator: " or "))</small>")</p>
                <p class="field">Name <span class="value">\(HTMLText.escape(card.student))</span></p>
                <p class="field">Password <span class="value">\(HTMLText.escape(card.password))</span></p>
                <p class="class">Class at the start: \(HTMLText.escape(card.visitorClass))</p></section>

                """
        }
        return """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign-in cards</title>
            <style>\(style)</style></head><body>
            <div class="screen-only"><h1>Sign-in cards</h1>\(intro.isEmpty ? "" : "<p>\(intro)</p>")\
            <p>Print this page now (Ctrl+P): the passwords are shown only this once. Then cut along the dashed lines.</p></div>
            <main class="cards">
            \(body.isEmpty ? "<p>No new passwords: every student on the roster has one.</p>" : body)</main>
            </body></html>
            """
    }

    /// Where students sign in: each default-class listener's addresses others can reach
    /// (or, on loopback, the listener itself), at `/sign-in`.
    public static func addresses(_ config: GardenConfig) -> [String] {
        let defaultClass = config.policy.defaultClass
        var addresses: [String] = []
        for listener in config.listeners where listener.persona == nil || listener.persona == defaultClass {
            let reachable = listener.address.isLoopback ? [] : MachineAddresses.reachable(listener.address)
            let hosts = reachable.isEmpty ? ["\(listener.address.isLoopback ? "localhost" : listener.address.host):\(listener.address.port)"] : reachable
            addresses += hosts.map { "http://\($0)/sign-in" }
        }
        return addresses
    }

    static let style = """
        body{font-family:sans-serif;margin:1.5rem}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));gap:0}\
        .card{border:1px dashed #888;padding:1rem 1.2rem;break-inside:avoid;page-break-inside:avoid}\
        .where{margin:0 0 .6rem}.field{margin:.3rem 0;font-size:1.1rem}\
        .value{font-family:monospace;font-size:1.3rem;font-weight:bold;margin-left:.4rem}\
        .class{margin:.6rem 0 0;color:#555;font-size:.9rem}\
        @media print{.screen-only{display:none}body{margin:0}.cards{grid-template-columns:1fr 1fr}\
        .card{height:6.4cm;box-sizing:border-box}@page{margin:1cm}}
        """
}
