import NIOConcurrencyHelpers
import NIOCore

/// The listening channels of a server, shared between `start()` and error clean-up.
final class ListeningChannels: Sendable {
    private let box = NIOLockedValueBox<[any Channel]>([])

    func append(_ channel: any Channel) {
        box.withLockedValue { $0.append(channel) }
    }

    var all: [any Channel] { box.withLockedValue { $0 } }
}
