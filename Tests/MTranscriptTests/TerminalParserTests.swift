import Testing
@testable import MTranscript

@Suite struct TerminalParserTests {
    @Test func sgrColoursAndAttributesBecomeStyles() {
        var parser = TerminalParser()
        let tokens = parser.feed("a\u{1B}[1;31mred\u{1B}[38;5;208mo\u{1B}[48;2;1;2;3mt\u{1B}[0mz\n")
        var red = TerminalStyle.plain
        red.bold = true
        red.foreground = .indexed(1)
        var orange = red
        orange.foreground = .indexed(208)
        var truecolor = orange
        truecolor.background = .rgb(1, 2, 3)
        #expect(tokens == [.text("a", .plain), .text("red", red), .text("o", orange), .text("t", truecolor), .text("z", .plain), .newline])
    }

    @Test func anEscapeSplitAcrossChunksWaitsForItsEnd() {
        var parser = TerminalParser()
        #expect(parser.feed("x\u{1B}[3") == [.text("x", .plain)])
        var green = TerminalStyle.plain
        green.foreground = .indexed(2)
        #expect(parser.feed("2mgo\r") == [.text("go", green)])
        #expect(parser.feed("\n") == [.newline], "a \\r\\n split across chunks is one newline")
    }

    @Test func otherControlSequencesAreDroppedAndCarriageReturnsKept() {
        var parser = TerminalParser()
        let tokens = parser.feed("\u{1B}]0;title\u{07}\u{1B}[2K\u{1B}(B10%\r20%\u{07}\u{08}x\n")
        #expect(tokens == [.text("10%", .plain), .carriageReturn, .text("20x", .plain), .newline])
    }

    @Test func plainTextHasNoEscapesOrControls() {
        let text = TerminalParser.plainText("\u{1B}[31mError:\u{1B}[0m disk \u{1B}[1mfull\u{1B}[22m\r\nnext\u{07}\u{1B}[A line\u{1B}[")
        #expect(text == "Error: disk full\nnext line")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
}
