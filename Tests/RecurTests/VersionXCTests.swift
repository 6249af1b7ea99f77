import XCTest
@testable import Recur
@testable import RecurExperiments

/// An XCTest case beside the Swift Testing suites: `recur --version` prints the library's version.
final class VersionXCTests: XCTestCase {
    func testCommandLinePrintsLibraryVersion() throws {
        let r = try RecurProcess.run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), Recur.version)
        XCTAssertEqual(Recur.version.split(separator: ".").count, 3)
    }
}
