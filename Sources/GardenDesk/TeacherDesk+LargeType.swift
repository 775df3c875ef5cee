import Foundation
import HTTPTypes
import Hummingbird

/// Large type for a projector: one click on the desk's navigation bar sets every page in
/// type a class can read from the back of the room, until clicked again (a cookie).
extension TeacherDesk {
    static let largeTypeCookie = "garden_large"

    /// Whether the page being made is in large type (set per request by `LargeTypeScope`).
    @TaskLocal static var largeType = false

    /// `/large`: turns large type on or off, and goes back to the page it was asked from.
    func toggleLargeType(_ request: Request) -> Response {
        let on = Self.cookie(Self.largeTypeCookie, in: request) != "1"
        // Back to the desk page the click came from (its path only: never another site).
        var back = "/"
        if let referer = request.headers[.referer], let url = URL(string: referer), url.path.hasPrefix("/"), !url.path.hasPrefix("//") {
            back = url.path
        }
        var response = Response(status: .seeOther)
        response.headers[.location] = back
        response.headers[.setCookie] = "\(Self.largeTypeCookie)=\(on ? "1" : "0"); Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    static let largeTypeCSS = """
        html.large body{font-size:28px;max-width:none}html.large #events,html.large #trace{font-size:20px}\
        html.large table.grid,html.large table.matrix,html.large table.chart{font-size:26px}html.large svg.chart{width:600px;height:96px}
        """
}

/// Reads the large-type cookie for the pages a request makes.
struct LargeTypeScope<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let large = TeacherDesk.cookie(TeacherDesk.largeTypeCookie, in: request) == "1"
        return try await TeacherDesk.$largeType.withValue(large) { try await next(request, context) }
    }
}
