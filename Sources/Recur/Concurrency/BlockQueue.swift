import Foundation

/// Runs independent blocks of work on up to `workers` threads, each block going to whichever
/// worker is free. With one worker or one block everything runs on the calling thread, in
/// order. The work of a block must not depend on which worker runs it or when, so that the
/// results are the same for every number of workers.
package enum BlockQueue {
    package static func run(_ count: Int, workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = Counter()
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
                while let i = next.take(below: count) { work.value(i) }
            }
        }
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func take(below count: Int) -> Int? {
            lock.lock()
            defer { lock.unlock() }
            guard value < count else { return nil }
            value += 1
            return value - 1
        }
    }
}
