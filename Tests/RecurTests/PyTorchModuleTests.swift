import Foundation
import Testing
@testable import Recur
@testable import RecurExport

@Suite struct PyTorchModuleTests {
    static func module(_ config: ModelConfig) throws -> JSON { try PyTorchModule.description(of: config.makeModel(seed: 1), config: config) }

    /// Stock nn modules where they compute the cell; the step-by-step module for the rest,
    /// with the activations and reset placement read from the built cell.
    @Test func theModuleDescriptionIsResolvedFromTheCell() throws {
        let lstm = try Self.module(ModelConfig(sequence: .lstm, inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, outputSize: 2))
        #expect(lstm["stock"] == .bool(true) && lstm["bidirectional"] == .bool(true) && lstm["output_size"] == JSON(2))
        let gru = try Self.module(ModelConfig(sequence: .gru, inputSize: 3, hiddenSize: 4, outputSize: 2, resetAfter: false))
        #expect(gru["stock"] == .bool(false) && gru["reset_after"] == .bool(false))
        let relu = try Self.module(ModelConfig(sequence: .lstm, inputSize: 3, hiddenSize: 4, outputSize: 2, activation: .relu))
        #expect(relu["stock"] == .bool(false) && relu["activation"] == .string("relu"))
        let one = try Self.module(ModelConfig(sentiment: .lstm1, vocabularySize: 9, convention: .keras1))
        #expect(one["stock"] == .bool(false) && one["activation"] == .string("sigmoid") && one["head"] == .bool(false))
        let peephole = try Self.module(ModelConfig(sequence: .lstmPeephole, inputSize: 3, hiddenSize: 4, outputSize: 2))
        #expect(peephole["cell"] == .string("lstm-peephole") && peephole["stock"] == .bool(false))
        let lm = try Self.module(ModelConfig(languageModel: .gru, vocabularySize: 11, embeddingSize: 4, hiddenSize: 4, layers: 1, tied: true))
        #expect(lm["tied"] == .bool(true) && lm["stock"] == .bool(true))
    }

    /// model.py embeds the description and the weights' file name; a Jordan network has none.
    @Test func theSourceNamesItsWeightsAndRefusesWhatItCannotRun() throws {
        let config = ModelConfig(sequence: .rnn, inputSize: 2, hiddenSize: 3, outputSize: 1)
        let text = try PyTorchModule.source(of: config.makeModel(seed: 1), config: config, weights: "my weights.safetensors")
        #expect(text.contains("WEIGHTS = \"my weights.safetensors\"") && text.contains("\"stock\": true") && text.contains("def load(path=None)"))
        let jordan = ModelConfig(jordan: 1, hiddenSize: 3, outputSize: 1)
        #expect { try PyTorchModule.source(of: jordan.makeModel(seed: 1), config: jordan, weights: "w") } throws: { "\($0)".contains("feeds back") }
    }
}
