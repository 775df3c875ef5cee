import NIOCore

/// A request body being read whole before the request is acted on: one going out to the
/// real network (the garden takes the whole body first, as nginx does by default, so a
/// slow upload never holds a connection to the real host open), or a sign-in form.
struct BodyCollection {
    enum Purpose {
        case upstream(UpstreamRequest, clientMinorVersion: Int)
        /// The portal's sign-in or sign-out form, with the request's head.
        case signIn(SignInStep, RequestHead, session: StudentSessions.Session?)
    }

    var purpose: Purpose
    var remaining: Int
    var collected: ByteBuffer
}

extension GardenHTTPHandler {
    /// Takes the body bytes of the request being collected from `buffer`; acts on the
    /// request (sends it out, or signs the student in) once the body is whole.
    func takeRequestBody(from buffer: inout ByteBuffer) {
        guard var collection = requestBody else { return }
        let count = min(collection.remaining, buffer.readableBytes)
        var part = buffer.readSlice(length: count)!
        collection.collected.writeBuffer(&part)
        collection.remaining -= count
        guard collection.remaining == 0 else {
            requestBody = collection
            return
        }
        requestBody = nil
        switch collection.purpose {
        case .upstream(var request, let clientMinorVersion):
            guard let upstream = garden.upstream else { return }
            request.body = collection.collected
            startFetch(request, isHEAD: false, clientMinorVersion: clientMinorVersion, upstream: upstream)
        case .signIn(let step, let head, let session):
            // The request is whole: it is answered now (or after its password check).
            requestStarted = nil
            submitted(step, form: collection.collected, head: head, session: session)
        }
    }
}
