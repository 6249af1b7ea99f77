import Foundation
import Recur

/// `model.py` for a model file: a PyTorch `nn.Module` with the model's state-dict names,
/// shapes and head, and `load(path)` that builds it and reads the exported safetensors. Stock
/// `nn.RNN`/`nn.LSTM`/`nn.GRU` run the recurrence where they compute the same cell; a
/// step-by-step module with the same tensor names runs the others (peephole and layer-norm
/// LSTMs, the reset-before GRU, Keras' activations).
///
/// `forward` takes what `recur infer` reads, time-major: a sequence model `x` [T, B, I] (and
/// `lengths` [B]) and returns (logits [B, O], output [T, B, D*H], h_n, c_n); a language model
/// `ids` [T, B] (and a state) and returns (logits [T, B, V], state); a sentiment model `ids`
/// [T, B] (and `lengths`) and returns (output [B], h_n).
public enum PyTorchModule {
    /// The module's description (written into model.py as `MODULE`), resolved from the built
    /// model so that the Python side re-derives nothing.
    public static func description(of model: any Layer, config: ModelConfig) throws -> JSON {
        let stack: any RecurrentStack
        var fields: [(String, JSON)] = [("task", .string(config.task.rawValue))]
        switch model {
        case let m as SequenceModel:
            stack = m.recurrent
            fields += [("output_size", JSON(m.head.weight.value.shape[0]))]
        case let m as LanguageModel:
            stack = m.recurrent
            fields += [("vocabulary_size", JSON(m.vocabularySize)), ("embedding_size", JSON(m.embeddingSize)), ("tied", .bool(m.tied))]
        case let m as SentimentModel:
            stack = m.recurrent
            fields += [("vocabulary_size", JSON(m.embedding.weight.value.shape[0])), ("embedding_size", JSON(m.embedding.weight.value.shape[1])),
                       ("dense", .bool(m.dense != nil)), ("head", .bool(m.head != nil))]
        default:
            throw RecurError("a \(config.task.rawValue) model has no model.py: its output feeds back into its recurrence",
                             fix: "read the exported tensors into a module of your own (docs/cells.md gives the equations and names)")
        }
        guard stack.merge == .concat else {
            throw RecurError("this model merges its two directions by '\(stack.merge.rawValue)'; model.py concatenates them as PyTorch does",
                             fix: "apply the \(stack.merge.rawValue) to the two halves of the output yourself")
        }
        var activation = Activation.tanh, recurrentActivation = Activation.sigmoid, resetAfter = true, projection = 0
        let cell: String
        switch stack.recurrentCell {
        case let c as RNNCell: (cell, activation) = ("rnn", c.activation)
        case let c as LSTMCell: (cell, activation, recurrentActivation, projection) = ("lstm", c.activation, c.recurrentActivation, c.projectionSize)
        case let c as GRUCell: (cell, activation, recurrentActivation, resetAfter) = ("gru", c.activation, c.recurrentActivation, c.resetAfter)
        case is PeepholeLSTMCell: cell = "lstm-peephole"
        case is LayerNormLSTMCell: cell = "lstm-layernorm"
        case let c: throw RecurError("the \(type(of: c)) cell has no model.py module", fix: "read the exported tensors into a module of your own")
        }
        let hasBias = stack.namedParameters.contains { $0.name.hasPrefix("bias_ih") }
        guard projection == 0 || (activation == .tanh && recurrentActivation == .sigmoid) else {
            throw RecurError("an LSTM with a projection and Keras activations has no model.py module (nn.LSTM computes tanh and sigmoid)",
                             fix: "read the exported tensors into a module of your own")
        }
        // PyTorch's own modules compute these exactly; the rest run step by step.
        let stock = (cell == "rnn" && (activation == .tanh || activation == .relu)) || (["lstm", "gru"].contains(cell) && activation == .tanh
            && recurrentActivation == .sigmoid && resetAfter)
        fields += [("cell", .string(cell)), ("input_size", JSON(stack.inputSize)), ("hidden_size", JSON(stack.hiddenSize)),
                   ("layers", JSON(stack.layers)), ("bidirectional", .bool(stack.directions == 2)), ("bias", .bool(hasBias)),
                   ("proj_size", JSON(projection)), ("activation", .string(activation.rawValue)),
                   ("recurrent_activation", .string(recurrentActivation.rawValue)), ("reset_after", .bool(resetAfter)), ("stock", .bool(stock))]
        return .object(fields)
    }

    /// The text of model.py for `model`; `weights`: the exported file's name, which `load()`
    /// reads from model.py's folder by default.
    public static func source(of model: any Layer, config: ModelConfig, weights: String) throws -> String {
        let module = try description(of: model, config: config).serialized(pretty: true)
        return header + "MODULE = json.loads(r\"\"\"\n\(module)\n\"\"\")\nWEIGHTS = \(JSON.string(weights).serialized())\n" + library
    }

    /// The phrase that marks a model.py as this exporter's (one it may replace).
    public static let marker = "written by `recur export --to pytorch`"

    static let header = """
        \"\"\"A Recur model as a PyTorch module, written by `recur export --to pytorch`.

            import model
            net = model.load()                      # reads the exported weights next to this file
            logits = net(x)[0]                      # x: what `recur infer` reads, time-major

        The state-dict names and shapes are Recur's (PyTorch's): load_state_dict(strict=True).
        Needs torch and safetensors.
        \"\"\"
        import json
        import os

        import torch
        from safetensors.torch import load_file
        from torch import nn


        """

    static let library = #"""


        ACTIVATIONS = {
            "tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda z: z,
            "hard_sigmoid": lambda z: torch.clamp(0.2 * z + 0.5, 0.0, 1.0),  # Keras 2's
        }
        GATES = {"rnn": 1, "lstm": 4, "gru": 3, "lstm-peephole": 4, "lstm-layernorm": 4}


        class StepRecurrent(nn.Module):
            """The cells nn.RNN/LSTM/GRU do not compute, step by step, with their tensor names
            (weight_ih_l0, ..._reverse; weight_ch for peepholes; ln_* for layer norm). Gate
            blocks in PyTorch's order: LSTM i f g o, GRU r z n. Padding steps (t >= length)
            keep the state and output zeros, as packed sequences do."""

            def __init__(self, m):
                super().__init__()
                self.m = m
                H, G = m["hidden_size"], GATES[m["cell"]]
                self.directions = 2 if m["bidirectional"] else 1
                for layer in range(m["layers"]):
                    width = m["input_size"] if layer == 0 else H * self.directions
                    for d in range(self.directions):
                        s = f"_l{layer}" + ("_reverse" if d else "")
                        self.register_parameter("weight_ih" + s, nn.Parameter(torch.zeros(G * H, width)))
                        self.register_parameter("weight_hh" + s, nn.Parameter(torch.zeros(G * H, H)))
                        if m["bias"]:
                            self.register_parameter("bias_ih" + s, nn.Parameter(torch.zeros(G * H)))
                            self.register_parameter("bias_hh" + s, nn.Parameter(torch.zeros(G * H)))
                        if m["cell"] == "lstm-peephole":
                            self.register_parameter("weight_ch" + s, nn.Parameter(torch.zeros(3, H)))
                        if m["cell"] == "lstm-layernorm":
                            for name, n in (("ln_ih", G * H), ("ln_hh", G * H), ("ln_c", H)):
                                self.register_parameter(f"{name}_weight" + s, nn.Parameter(torch.ones(n)))
                                self.register_parameter(f"{name}_bias" + s, nn.Parameter(torch.zeros(n)))

            def p(self, name, s):
                return getattr(self, name + s, None)

            def step(self, s, x, h, c):
                m, H = self.m, self.m["hidden_size"]
                act, sigma = ACTIVATIONS[m["activation"]], ACTIVATIONS[m["recurrent_activation"]]
                bih, bhh = self.p("bias_ih", s), self.p("bias_hh", s)
                xp = x @ self.p("weight_ih", s).T + (bih if bih is not None else 0)
                cell = m["cell"]
                if cell == "rnn":
                    return act(xp + h @ self.p("weight_hh", s).T + (bhh if bhh is not None else 0)), None
                if cell == "gru":
                    W, b = self.p("weight_hh", s), (bhh if bhh is not None else x.new_zeros(3 * H))
                    hp = h @ W[: 2 * H].T + b[: 2 * H]
                    r = sigma(xp[:, :H] + hp[:, :H])
                    z = sigma(xp[:, H:2 * H] + hp[:, H:])
                    if m["reset_after"]:
                        n = act(xp[:, 2 * H:] + r * (h @ W[2 * H:].T + b[2 * H:]))
                    else:
                        n = act(xp[:, 2 * H:] + (r * h) @ W[2 * H:].T + b[2 * H:])
                    return (1 - z) * n + z * h, None
                hp = h @ self.p("weight_hh", s).T
                if cell == "lstm-layernorm":
                    def ln(v, name):
                        return nn.functional.layer_norm(v, v.shape[-1:], self.p(name + "_weight", s), self.p(name + "_bias", s), 1e-5)
                    a = ln(hp, "ln_hh") + ln(x @ self.p("weight_ih", s).T, "ln_ih")
                    a = a + (bih if bih is not None else 0) + (bhh if bhh is not None else 0)
                    i, f, g, o = a.split(H, dim=1)
                    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                    return torch.sigmoid(o) * torch.tanh(ln(c, "ln_c")), c
                a = xp + hp + (bhh if bhh is not None else 0)
                i, f, g, o = a.split(H, dim=1)
                if cell == "lstm-peephole":
                    w = self.p("weight_ch", s)
                    i, f = torch.sigmoid(i + w[0] * c), torch.sigmoid(f + w[1] * c)
                    c = f * c + i * torch.tanh(g)
                    return torch.sigmoid(o + w[2] * c) * torch.tanh(c), c
                c = sigma(f) * c + sigma(i) * act(g)
                return sigma(o) * act(c), c

            def forward(self, x, lengths=None, state=None):
                """x [T, B, I] -> (output [T, B, D*H], (h_n, c_n) or h_n)."""
                m, H = self.m, self.m["hidden_size"]
                T, B = x.shape[0], x.shape[1]
                lstm = m["cell"].startswith("lstm")
                lengths = x.new_full((B,), T) if lengths is None else torch.as_tensor(lengths).to(x.device)
                h0, c0 = (state if isinstance(state, tuple) else (state, None)) if state is not None else (None, None)
                hs, cs = [], []
                for layer in range(m["layers"]):
                    outs = []
                    for d in range(self.directions):
                        s, k = f"_l{layer}" + ("_reverse" if d else ""), layer * self.directions + d
                        h = h0[k] if h0 is not None else x.new_zeros(B, H)
                        c = (c0[k] if c0 is not None else x.new_zeros(B, H)) if lstm else None
                        out = x.new_zeros(T, B, H)
                        for t in (reversed(range(T)) if d else range(T)):
                            valid = (t < lengths).to(x.dtype).unsqueeze(1)
                            hn, cn = self.step(s, x[t], h, c)
                            h = valid * hn + (1 - valid) * h
                            if lstm:
                                c = valid * cn + (1 - valid) * c
                            out[t] = valid * hn
                        outs.append(out)
                        hs.append(h)
                        cs.append(c)
                    x = torch.cat(outs, dim=2)
                h_n = torch.stack(hs)
                return x, ((h_n, torch.stack(cs)) if lstm else h_n)


        def recurrent(m):
            """nn.RNN/LSTM/GRU where they compute this cell, else StepRecurrent."""
            if not m["stock"]:
                return StepRecurrent(m)
            args = dict(input_size=m["input_size"], hidden_size=m["hidden_size"], num_layers=m["layers"],
                        bidirectional=m["bidirectional"], bias=m["bias"])
            if m["cell"] == "rnn":
                return nn.RNN(nonlinearity=m["activation"], **args)
            if m["cell"] == "lstm":
                return nn.LSTM(proj_size=m["proj_size"], **args)
            return nn.GRU(**args)


        def run(rnn, x, lengths=None, state=None):
            """The recurrence on x [T, B, I] with optional per-sequence lengths [B]."""
            if isinstance(rnn, StepRecurrent):
                return rnn(x, lengths, state)
            if lengths is None:
                return rnn(x, state)
            lengths = torch.as_tensor(lengths).to(torch.int64).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            out, final = rnn(packed, state)
            return nn.utils.rnn.pad_packed_sequence(out, total_length=x.shape[0])[0], final


        class Model(nn.Module):
            def __init__(self, m=MODULE):
                super().__init__()
                self.m = m
                task = m["task"]
                width = (m["proj_size"] or m["hidden_size"]) * (2 if m["bidirectional"] else 1)
                if task in ("language-model", "sentiment"):
                    self.embedding = nn.Embedding(m["vocabulary_size"], m["embedding_size"])
                self.rnn = recurrent(m)
                if task == "sequence":
                    self.head = nn.Linear(width, m["output_size"])
                elif task == "language-model":
                    self.head = nn.Linear(width, m["vocabulary_size"])
                    if m["tied"]:
                        self.head.weight = self.embedding.weight
                else:
                    if m["dense"]:
                        self.dense = nn.Linear(width, width)
                    if m["head"]:
                        self.head = nn.Linear(width, 1)

            def forward(self, x, lengths=None, state=None):
                task = self.m["task"]
                if task == "sequence":
                    # x [T, B, I] -> logits [B, O] from the top layer's final states (forward h_T, reverse h_0).
                    output, final = run(self.rnn, x, lengths, state)
                    h_n, c_n = final if isinstance(final, tuple) else (final, None)
                    top = torch.cat(list(h_n[-2:]), dim=1) if self.m["bidirectional"] else h_n[-1]
                    return self.head(top), output, h_n, c_n
                ids = torch.as_tensor(x).long()
                if task == "language-model":
                    # ids [T, B] -> logits [T, B, V] and the final state (pass it back to carry it).
                    output, final = run(self.rnn, self.embedding(ids), None, state)
                    return self.head(output), final
                # sentiment: ids [T, B] -> output [B] (a probability for 1-unit models, else a logit).
                _, final = run(self.rnn, self.embedding(ids), lengths, None)
                h_n = final[0] if isinstance(final, tuple) else final
                features = h_n[0]
                if self.m["dense"]:
                    features = self.dense(features)
                if self.m["head"]:
                    features = self.head(features)
                return features.reshape(-1), h_n


        def load(path=None):
            """The model with the exported weights (default: WEIGHTS next to this file), in eval mode."""
            path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), WEIGHTS)
            net = Model()
            net.load_state_dict(load_file(path), strict=True)
            return net.eval()

        """#
}
