import Foundation
import GardenPolicy
import GardenServer

/// Makes the students' passwords (`walled-garden classroom passwords`, or the desk's
/// Class page): words a student can type on a phone, kept only as scrypt hashes in
/// `Config/classroom-passwords`, and handed back once, for the sign-in cards.
public enum ClassroomPasswords {
    /// One student's new password, for their card.
    public struct Card: Sendable, Equatable {
        public var student: String
        public var visitorClass: String
        public var password: String
    }

    /// Makes passwords for the roster's students without one (or, with `everyone`, for all:
    /// their old ones stop working), keeps the hashes of the rest, and writes the file.
    ///
    /// - Returns: the new passwords, in the roster's order.
    public static func make(
        for roster: ClassRoster, in directory: ConfigDirectory, everyone: Bool, logRounds: Int = PasswordHash.defaultLogRounds
    ) throws -> [Card] {
        let kept = everyone ? [:] : existingHashes(in: directory)
        var cards: [Card] = []
        var hashes: [(name: String, hash: PasswordHash)] = []
        for student in roster.students {
            if let hash = kept[student.name] {
                hashes.append((student.name, hash))
                continue
            }
            let password = newPassword()
            hashes.append((student.name, try PasswordHash.make(password: password, logRounds: logRounds)))
            cards.append(Card(student: student.name, visitorClass: student.visitorClass, password: password))
        }
        try directory.writeClassroomPasswords(hashes)
        return cards
    }

    /// The hashes in the file now, by name (lines that do not read are left out: they are
    /// made anew).
    static func existingHashes(in directory: ConfigDirectory) -> [String: PasswordHash] {
        guard let text = try? String(contentsOfFile: directory.classroomPasswordsFile, encoding: .utf8) else { return [:] }
        var hashes: [String: PasswordHash] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, case .success(let hash) = PasswordHash.parse(String(fields[1])) else { continue }
            hashes[String(fields[0])] = hash
        }
        return hashes
    }

    /// Three short words and a number, such as `river-lantern-cloud-47`: about 30 bits,
    /// ample behind scrypt and the sign-in back-off, and easy to copy from a card.
    public static func newPassword() -> String {
        var generator = SystemRandomNumberGenerator()
        let words = (0..<3).map { _ in wordList.randomElement(using: &generator)! }
        return words.joined(separator: "-") + "-" + String(Int.random(in: 10...99, using: &generator))
    }

    /// 241 short, common, unambiguous English words.
    static let wordList: [String] = """
        acorn amber anchor apple apron arrow aspen attic autumn badge bagel banjo barley basil basket beacon \
        beetle bell berry birch biscuit blanket bloom boat bonnet branch brick bridge brook bubble bucket button \
        cabin cactus camel candle canoe canvas carpet carrot castle cedar chalk cherry chess cider circle clay \
        cliff clock cloud clover coat comet copper coral cotton crane crayon cricket crown cup daisy dawn delta \
        desert dolphin door dove dragon drum dune eagle echo elbow elm ember engine fable falcon feather fern \
        fiddle field fig flag flame flute forest fossil fox frost garden garlic gate gecko ginger glacier globe \
        glove goose grape gravel harbor harp hazel heron hill honey hoop horizon island ivy jacket jam jelly \
        jungle kettle kite koala ladder lake lantern lemon lily lime linen lion lotus magnet mango maple marble \
        meadow melon mint mirror mitten moon moss motor mountain mural needle nest noodle oak oasis ocean olive \
        onion orbit otter owl paddle palm panda paper parrot peach pearl pebble pencil pepper piano pillow pine \
        planet plum pocket pond poppy prism puzzle quartz quill rabbit radio rain raven reef ribbon river robin \
        rocket rope rose saddle salmon sand satin scarf seal shell silver sketch sled slope snow sparrow spice \
        spoon spring spruce star stone storm straw stream sugar summit sun swan table thistle thunder tiger \
        timber toast tomato torch tower trail tulip tunnel turtle valley velvet violin walnut wave whale wheat \
        willow window winter wolf wool yarn zebra zephyr
        """.split(separator: " ").map(String.init)
}
