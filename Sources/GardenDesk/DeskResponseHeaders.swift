import HTTPTypes
import Hummingbird

/// Headers every answer of the desk carries, whatever route made it: its data (the
/// trace, the script, metrics, errors) is never sniffed into HTML by a browser, and
/// never framed. Added first, so it wraps every route and the not-found answer.
struct DeskResponseHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            // Errors (a path no route knows: 404) are answered here, so that they carry the headers too.
            response = try error.response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.contentSecurityPolicy] == nil {
            // Not an HTML page of the desk's (those set their own): nothing in it may run.
            response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'; sandbox"
        }
        return response
    }
}
