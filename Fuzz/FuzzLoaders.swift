// libFuzzer target for Recur's file loaders: the safetensors reader and the WAV reader.
//
// The first input byte chooses the loader; the rest is the file. Any input must either load
// or throw an error: a crash, trap, hang or sanitizer report is a bug. Build and run with
// Fuzz/run.sh (swiftc -sanitize=fuzzer,address).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let file = Data(bytes.dropFirst())
    if bytes[0] & 1 == 0 {
        if let s = try? Safetensors(data: file, source: "fuzz.safetensors") {
            // Whatever loads must be consistent: every tensor's size matches its shape.
            for name in s.names { precondition(s[name]!.count == s[name]!.shape.reduce(1, *)) }
            _ = try? Safetensors(data: s.serialized(), source: "again")
        }
    } else {
        if let w = try? WAVFile(data: file, source: "fuzz.wav") {
            precondition(w.samples.allSatisfy { $0.isFinite }, "decoded samples must be finite")
        }
    }
    return 0
}
