/// The portal's sign-in page (`/sign-in`): a name and password from the student's card,
/// or, once signed in, who they are and in which class, with a sign-out button.
///
/// Its links and form actions are relative (`sign-in`, `./`), so the one page works at
/// the garden's own address, by the portal's name, through the proxy and in the gateway
/// form (`/site/PORTAL/sign-in`).
enum SignInPage {
    /// Form bodies larger than this are refused (413): a name and a password.
    static let maxFormBytes = 4096

    /// The page for a visitor who is not signed in, with the form token; `problem` says
    /// what went wrong with the last try.
    static func form(token: String, problem: String?, name: String = "") -> String {
        let warning = problem.map { "<p class=\"problem\" role=\"alert\">\(HTMLText.escape($0))</p>" } ?? ""
        return page(title: "Sign in", body: """
            <h1>Sign in</h1>
            <p>Type the name and password on the card your teacher gave you.</p>
            \(warning)
            <form method="post" action="sign-in">
            <input type="hidden" name="form" value="\(HTMLText.escape(token))">
            <p><label>Name<br><input name="name" value="\(HTMLText.escape(name))" autocomplete="username" autocapitalize="none" spellcheck="false" required></label></p>
            <p><label>Password<br><input name="password" type="password" autocomplete="current-password" required></label></p>
            <p><button>Sign in</button></p>
            </form>
            <p><a href="./">Back to the portal</a></p>
            """)
    }

    /// The page for a signed-in student: who, which class, and the sign-out button.
    static func signedIn(student: String, visitorClass: String, description: String?, csrf: String) -> String {
        page(title: "Signed in", body: """
            <h1>Signed in as \(HTMLText.escape(student))</h1>
            <p>You are a visitor of the class <strong>\(HTMLText.escape(visitorClass))</strong>\
            \(description.map { ": \(HTMLText.escape($0))" } ?? ".")</p>
            <p>Every page you open now is decided for this class, and written in the log under your name.</p>
            <p><a href="./">Go to the portal</a></p>
            <form method="post" action="sign-out"><input type="hidden" name="csrf" value="\(HTMLText.escape(csrf))"><button>Sign out</button></form>
            """)
    }

    private static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title)</title>
        <style>body{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
        input{font-size:1.1rem;width:100%;box-sizing:border-box;padding:.3rem}button{font-size:1.1rem;padding:.3rem 1.2rem}\
        .problem{background:#fde8e8;border-left:4px solid #b00;padding:.4rem .7rem}</style>
        </head><body>
        \(body)
        </body></html>
        """
    }
}
