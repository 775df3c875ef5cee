import GardenRewrite
import Testing

/// The diff `reveal` prints: removed lines before added ones, hunks with context.
@Suite struct LineDiffTests {
    @Test func changedLinesAreShownInPlace() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh"
        let new = "a\nb\nC\nd\ne\nf\ng\nh\ni"
        #expect(LineDiff.unified(from: old, to: new, context: 1) == """
            @@ -2,3 +2,3 @@
             b
            -c
            +C
             d
            @@ -8,1 +8,2 @@
             h
            +i
            """)
    }

    @Test func equalTextsHaveNoDiff() {
        #expect(LineDiff.unified(from: "x\ny", to: "x\ny").isEmpty)
    }

    @Test(arguments: [("", "a"), ("a", ""), ("a\nb", "b\na"), ("오빠\n동지", "동지")])
    func replayingTheDiffGivesTheNewText(old: String, new: String) {
        let lines = LineDiff.lines(from: old, to: new)
        let rebuiltOld = lines.compactMap { line -> String? in
            switch line {
            case .same(let text), .removed(let text): text
            case .added: nil
            }
        }
        let rebuiltNew = lines.compactMap { line -> String? in
            switch line {
            case .same(let text), .added(let text): text
            case .removed: nil
            }
        }
        #expect(rebuiltOld.joined(separator: "\n") == old)
        #expect(rebuiltNew.joined(separator: "\n") == new)
    }
}
