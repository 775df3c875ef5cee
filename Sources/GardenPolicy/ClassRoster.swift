/// The class roster (`Config/classroom.yaml`): the students who sign in on the portal,
/// each with the visitor class they start the lesson in.
///
/// Passwords are never written here: `walled-garden classroom passwords` (or the desk's
/// Class page) makes them, prints them once on sign-in cards, and keeps only their
/// scrypt hashes in `Config/classroom-passwords`. A student with a password is an
/// account of the policy (`Policy.accounts`), so the sign-in form, HTTP Basic and
/// `accounts:` conditions all know them.
public struct ClassRoster: Sendable, Equatable {
    /// One student: the name they sign in with, and their class.
    public struct Student: Sendable, Equatable {
        public var name: String
        public var visitorClass: String
        /// Whether a password has been made for them.
        public var hasPassword: Bool

        public init(name: String, visitorClass: String, hasPassword: Bool = false) {
            self.name = name
            self.visitorClass = visitorClass
            self.hasPassword = hasPassword
        }
    }

    /// In the order classroom.yaml lists them.
    public var students: [Student]
    /// How long a sign-in lasts (`session:`), in seconds.
    public var sessionSeconds: Int

    /// Eight hours: a school day, so a morning's sign-in lasts until the last lesson.
    public static let defaultSessionSeconds = 8 * 3600

    public init(students: [Student] = [], sessionSeconds: Int = ClassRoster.defaultSessionSeconds) {
        self.students = students
        self.sessionSeconds = sessionSeconds
    }

    public func student(named name: String) -> Student? {
        students.first { $0.name == name }
    }

    /// Whether `name` can be a student's name: it is typed on a phone's keyboard and
    /// used with HTTP Basic, so letters, digits, `-`, `_` and `.` only, 1 to 40 of them.
    public static func isValidName(_ name: String) -> Bool {
        (1...40).contains(name.count) && name.unicodeScalars.allSatisfy { scalar in
            (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
                && scalar.value > 0x20
        }
    }
}
