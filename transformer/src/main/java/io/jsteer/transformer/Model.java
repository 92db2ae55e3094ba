/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.transformer;

import io.jsteer.transformer.backend.Backend;
import io.jsteer.transformer.backend.Branch;
import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.transformer.backend.DeviceBackend;
import io.jsteer.transformer.blocks.Norm;
import io.jsteer.transformer.blocks.Rope;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.transformer.kernels.Vectors;
import io.jsteer.weights.Architecture;
import io.jsteer.weights.Checkpoint;
import io.jsteer.weights.ModelConfig;
import io.jsteer.weights.WeightSource;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoder-only transformer (GPT-NeoX / Pythia, Gemma, Gemma 2, Gemma 3 text, Llama 2/3, Mistral,
 * Qwen 2/3) over
 * memory-mapped weights, computing in float32.
 *
 * <p>Every block is the same code: the families differ only in which optional parts exist
 * (see {@link LayerWeights}) and in config flags. One block, in the families' own words:
 * <pre>
 *   resid_pre = x
 *   attn_out  = [attnOutNorm] attention(attnNorm(x))
 *   parallel (GPT-NeoX default): x = x + attn_out + mlp(mlpNorm(resid_pre))
 *   sequential:                  x = x + attn_out = resid_mid;  x = x + [mlpOutNorm] mlp(mlpNorm(x))
 *   resid_post = x
 * </pre>
 * Hooks at each named point (see {@link HookPoint}) may read and change these activations.
 * A forward call may advance several sequences at once ({@link #forward(List)}): their new tokens
 * are the rows of one activation, so every weight is read once for all of them.
 * The model is immutable and thread-safe; per-sequence data lives in {@link State}.
 *
 * <pre>{@code
 * Model model = Model.load(Path.of("models/pythia-70m"));   // config.json + model.safetensors
 * Tokenizer tokenizer = Tokenizers.load(Path.of("models/pythia-70m/tokenizer.json"));
 * State state = model.newState();
 * float[] logits = model.forward(state, tokenizer.encode("The capital of France is"), false);  // last position's
 * logits = model.forward(state, new int[] {Sampler.argmax(logits, 0, logits.length)}, false); // one more, on the KV cache
 * }</pre>
 */
public final class Model {
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Backend backend;
    private final Rope[] rope;
    private final float embedScale;
    /** The mapped files when loaded from a checkpoint: checked unchanged before each pass (see {@link WeightSource#checkUnchanged}). */
    private final WeightSource source;

    /** A model of {@code config} with {@code weights}, computing on {@code backend}; {@link #load} reads both from a checkpoint folder. */
    public Model(ModelConfig config, ModelWeights weights, Backend backend) {
        this(config, weights, backend, null);
    }

    private Model(ModelConfig config, ModelWeights weights, Backend backend, WeightSource source) {
        requireVectorApi();
        this.source = source;
        this.config = config;
        this.weights = weights;
        this.backend = backend;
        this.rope = new Rope[config.numLayers()];
        for (int l = 0; l < rope.length; l++) rope[l] = new Rope(config.rotaryDims(), config.ropeBase(l), config.ropeScaling(l));
        this.embedScale = config.embeddingScale();
    }

    /**
     * The kernels use the Vector API, an incubator module the JVM resolves only when asked to:
     * without it the first product would fail deep inside with a {@code NoClassDefFoundError}.
     */
    private static void requireVectorApi() {
        try {
            Class.forName("jdk.incubator.vector.FloatVector", false, Model.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("jsteer needs the Vector API: start the JVM with --add-modules jdk.incubator.vector");
        }
    }

    /** Loads a Hugging Face checkpoint directory on the CPU backend. The checkpoint stays mapped for the model's life. */
    public static Model load(Path dir) {
        return load(dir, CpuBackend.INSTANCE);
    }

    /** Loads a Hugging Face checkpoint directory on the given backend. */
    public static Model load(Path dir, Backend backend) {
        Checkpoint cp = Checkpoint.open(dir);
        return new Model(cp.config(), ModelWeights.load(cp.config(), cp.weights()), backend, cp.weights());
    }

    /** The checkpoint's configuration (sizes, architecture, context length). */
    public ModelConfig config() {
        return config;
    }

    /** The weights, as stored in the checkpoint (mapped, in their stored dtype). */
    public ModelWeights weights() {
        return weights;
    }

    /** Where the forward pass runs. */
    public Backend backend() {
        return backend;
    }

    /** A fresh sequence with an empty KV cache and no hooks. */
    public State newState() {
        return new State(config.numLayers(), config.numKvHeads(), config.headDim(), config.maxPositions(), !config.parallelResidual(),
                config.architecture() != Architecture.GPT_NEOX);
    }

    /**
     * One sequence's part of a batched forward call: {@code tokens} to append to {@code state},
     * and whether logits are wanted for every one of them ({@code [tokens][vocab]}) or only the
     * last ({@code [vocab]}).
     */
    public record Step(State state, int[] tokens, boolean allLogits) {
        public Step {
            if (state == null) throw new IllegalArgumentException("step needs a state");
            if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("no tokens to process");
        }
    }

    /**
     * Appends {@code tokens} to the sequence and returns logits: {@code [tokens][vocab]} when
     * {@code allLogits}, else only the last position's {@code [vocab]}.
     */
    public float[] forward(State s, int[] tokens, boolean allLogits) {
        return forward(List.of(new Step(s, tokens, allLogits))).getFirst();
    }

    /**
     * Advances several sequences at once: every step's tokens are stacked into one activation, so
     * each weight is read once for the whole batch, while attention, hooks and logits stay per
     * sequence. Each sequence's results are those it would get alone: its hooks see its own rows
     * in one call, as in {@link #forward(State, int[], boolean)} (the contract is in {@link
     * io.jsteer.transformer.hooks}), and the products give every row the same bits whatever else
     * shares the call (see {@link io.jsteer.transformer.kernels.MatMul}). Returns each step's
     * logits, in order.
     *
     * @throws NonFiniteException when a step's logits are not all finite, naming the first hook
     *         point where NaN or infinity appeared in that sequence; every state is then as
     *         before the call ({@link #forwardEach} keeps the other sequences' results)
     */
    public List<float[]> forward(List<Step> steps) {
        List<Outcome> outcomes = forwardEach(steps);
        List<float[]> logits = new ArrayList<>(steps.size());
        for (Outcome o : outcomes) {
            if (o.failure() != null) {
                // all or nothing: the sequences that did advance are taken back too
                for (int i = 0; i < steps.size(); i++) {
                    State s = steps.get(i).state();
                    if (outcomes.get(i).failure() == null) s.truncate(s.length() - steps.get(i).tokens().length);
                }
                throw o.failure();
            }
            logits.add(o.logits());
        }
        return logits;
    }

    /**
     * One step's outcome in {@link #forwardEach}: its logits, or (logits null) why it failed, its
     * state then being as before the call.
     *
     * @param logits  the step's logits as {@link #forward(List)} returns them; null when it failed
     * @param failure null when the step succeeded; a {@link NonFiniteException}, or what one of
     *                its hooks threw
     */
    public record Outcome(float[] logits, RuntimeException failure) {}

    /**
     * {@link #forward(List)} where a sequence fails alone when its values turn non-finite or one
     * of its hooks throws: the others advance and get their logits, the same as without it (rows
     * never mix in the products, norms or attention), and the failed one's state is as before the
     * call. A problem with the call as a whole (a token outside the vocabulary, a sequence past
     * the context, the checkpoint changed on disk) still throws for every step, as does a hook
     * of a call with one step.
     */
    public List<Outcome> forwardEach(List<Step> steps) {
        if (source != null) source.checkUnchanged();
        Batch b = new Batch(steps, config.vocabSize());
        for (Step step : steps) step.state().checkRoom(step.tokens().length);
        if (backend instanceof DeviceBackend device) {
            requireSupported(device, steps);
            List<float[]> logits = new ArrayList<>(steps.size());
            for (Step step : steps) {
                logits.add(device.forward(this, step.state(), step.tokens(), step.allLogits()));
                step.state().advance(step.tokens().length);
            }
            List<Outcome> outcomes = new ArrayList<>(steps.size());
            for (int s = 0; s < steps.size(); s++) outcomes.add(NonFinite.check(this, steps.get(s), logits.get(s)));
            return outcomes;
        }
        float[] x = run(b, config.numLayers());
        for (Step step : steps) step.state().advance(step.tokens().length);
        List<float[]> logits = unembed(x, b);
        List<Outcome> outcomes = new ArrayList<>(steps.size());
        for (int s = 0; s < steps.size(); s++) {
            State state = steps.get(s).state();
            if (b.failure(s) == null) {
                outcomes.add(NonFinite.check(this, steps.get(s), logits.get(s)));
            } else {
                state.truncate(state.length() - steps.get(s).tokens().length);
                outcomes.add(new Outcome(null, b.failure(s)));
            }
        }
        return outcomes;
    }

    /**
     * Fails with a message naming {@code name} (a noun phrase such as {@code "prompt 3"}) unless
     * {@code prompt} can start a sequence of this model: at least one token, no more than
     * {@code max_position_embeddings}, every id inside the vocabulary. Whatever starts sequences
     * (the {@link io.jsteer.transformer.batch.Engine}, generation, activation recording) checks
     * its prompts here before doing any work.
     *
     * @throws IllegalArgumentException naming {@code name} and what is wrong
     */
    public void checkPrompt(int[] prompt, String name) {
        if (prompt == null || prompt.length == 0) throw new IllegalArgumentException(name + " is empty");
        if (prompt.length > config.maxPositions()) {
            throw new IllegalArgumentException(name + " of " + prompt.length + " tokens exceeds the model's max_position_embeddings " + config.maxPositions());
        }
        checkIds(prompt, config.vocabSize(), name);
    }

    /** Fails naming {@code name} and the index unless every id of {@code tokens} is in {@code [0, vocab)}. */
    static void checkIds(int[] tokens, int vocab, String name) {
        for (int i = 0; i < tokens.length; i++) {
            int id = tokens[i];
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " at index " + i + " of " + name + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /**
     * Runs the first {@code layers} blocks over every step's tokens and stops: for reading
     * activations with hooks without paying for the blocks above them and the unembedding. The
     * states are left as they were (the keys and values written count for nothing), so each can
     * be run again or go on from where it stood.
     */
    public void forwardBlocks(List<Step> steps, int layers) {
        if (layers < 0 || layers > config.numLayers()) throw new IllegalArgumentException("cannot run " + layers + " blocks of a model of " + config.numLayers());
        if (source != null) source.checkUnchanged();
        Batch b = new Batch(steps, config.vocabSize());
        for (Step step : steps) step.state().checkRoom(step.tokens().length);
        if (backend instanceof DeviceBackend device) {
            requireSupported(device, steps);
            for (Step step : steps) device.forwardBlocks(this, step.state(), step.tokens(), layers);
            return;
        }
        run(b, layers);
        for (int s = 0; s < steps.size(); s++) {
            if (b.failure(s) != null) throw b.failure(s);
        }
    }

    /** Refuses, before any work, a hook at a point the device backend does not run hooks at. */
    private static void requireSupported(DeviceBackend device, List<Step> steps) {
        for (Step step : steps) {
            for (HookName name : step.state().hooks().attached()) {
                if (!device.supports(name.point())) {
                    throw new UnsupportedOperationException("hook at " + name + ": the " + device.name()
                            + " backend runs hooks at the residual-stream points only; use the CPU backend for hook points inside the block");
                }
            }
        }
    }

    /** Embeds the batch's tokens and runs them through the first {@code layers} blocks; returns the residual stream {@code x[rows][d]}. */
    private float[] run(Batch b, int layers) {
        for (Step step : b.steps) step.state().reserve(step.tokens().length);
        float[] x = embed(b);
        for (int l = 0; l < layers; l++) block(l, x, b);
        return x;
    }

    /** Token embeddings, {@code x[rows][d]}. */
    private float[] embed(Batch b) {
        int d = config.hiddenSize();
        float[] x = new float[b.rows * d];
        float[] row = new float[d];
        for (int s = 0; s < b.sequences(); s++) {
            int[] tokens = b.steps.get(s).tokens();
            for (int t = 0, r = b.firstRow(s); t < tokens.length; t++, r++) {
                weights.embed().read((long) tokens[t] * d, row);
                for (int i = 0; i < d; i++) x[r * d + i] = row[i] * embedScale;
            }
        }
        return x;
    }

    /**
     * One transformer block, updating the residual stream {@code x[rows][d]} in place:
     * <pre>
     *   parallel (GPT-NeoX default): x = x + attn(ln1(x)) + mlp(ln2(x))
     *   sequential:                  x = x + attn(ln1(x));  x = x + mlp(ln2(x))
     * </pre>
     * with Gemma 2/3's norms of each branch's output before it is added.
     */
    private void block(int l, float[] x, Batch b) {
        LayerWeights w = weights.layers()[l];
        int rows = b.rows;
        b.hook(l, HookPoint.RESID_PRE, x, config.hiddenSize());

        Attention attention = new Attention(config, w, rope[l], b, l, normed(x, w.attnNorm(), l, HookPoint.LN1_NORMALIZED, b));
        float[] attnOut, mlpOut;
        if (config.parallelResidual()) {
            Mlp mlp = new Mlp(config, w, b, l, normed(x, w.mlpNorm(), l, HookPoint.LN2_NORMALIZED, b));
            backend.run(rows, b.promptRows, attention, mlp);
            attnOut = branchOutput(attention, w.attnOutNorm(), l, HookPoint.ATTN_OUT, b);
            mlpOut = branchOutput(mlp, w.mlpOutNorm(), l, HookPoint.MLP_OUT, b);
            add(x, attnOut);
            add(x, mlpOut);
        } else {
            backend.run(rows, b.promptRows, attention);
            attnOut = branchOutput(attention, w.attnOutNorm(), l, HookPoint.ATTN_OUT, b);
            add(x, attnOut);
            b.hook(l, HookPoint.RESID_MID, x, config.hiddenSize());

            Mlp mlp = new Mlp(config, w, b, l, normed(x, w.mlpNorm(), l, HookPoint.LN2_NORMALIZED, b));
            backend.run(rows, b.promptRows, mlp);
            mlpOut = branchOutput(mlp, w.mlpOutNorm(), l, HookPoint.MLP_OUT, b);
            add(x, mlpOut);
        }
        b.hook(l, HookPoint.RESID_POST, x, config.hiddenSize());
    }

    /** A branch's output as added to the stream: normed where the family norms it, then hooked. */
    private float[] branchOutput(Branch branch, Norm outNorm, int layer, HookPoint point, Batch b) {
        float[] out = branch.result();
        if (outNorm != null) outNorm.apply(out, b.rows);
        b.hook(layer, point, out, config.hiddenSize());
        return out;
    }

    /** A normed copy of {@code x[rows][d]}, hooked at {@code point}. */
    private float[] normed(float[] x, Norm norm, int layer, HookPoint point, Batch b) {
        float[] h = x.clone();
        norm.apply(h, b.rows);
        b.hook(layer, point, h, config.hiddenSize());
        return h;
    }

    /** {@code x += y}, element by element. */
    private static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    /** Rows of sequence {@code s} whose logits are wanted: all of its step's, or its last. */
    private static int wantedRows(Batch b, int s) {
        return b.steps.get(s).allLogits() ? b.rowCount(s) : 1;
    }

    /** Whether sequence {@code s}'s wanted rows are a prompt's, which the unembedding takes in the prompt order. */
    private static boolean allLogitsPrompt(Batch b, int s) {
        return b.steps.get(s).allLogits() && Batch.isPrompt(b.rowCount(s));
    }

    /**
     * Final norm, then the unembedding (with Gemma 2's final soft-cap), of the rows whose logits
     * are wanted: every row of a step that asks for all, else its last.
     */
    private List<float[]> unembed(float[] x, Batch b) {
        int d = config.hiddenSize(), V = config.vocabSize();
        // the rows of prompts that want all their logits first: the prompt order's rows (MatMul)
        int[] at = new int[b.sequences()];
        int wanted = 0, promptRows = 0;
        for (boolean prompts : new boolean[] {true, false}) {
            for (int s = 0; s < b.sequences(); s++) {
                if (allLogitsPrompt(b, s) != prompts) continue;
                at[s] = wanted;
                wanted += wantedRows(b, s);
                if (prompts) promptRows = wanted;
            }
        }
        float[] h = new float[wanted * d];
        for (int s = 0; s < b.sequences(); s++) {
            int rows = b.rowCount(s), n = wantedRows(b, s);
            if (b.active(s, -1, HookPoint.LN_FINAL)) {
                // every row of the call through the final norm, for its hooks; the wanted ones go on
                float[] all = Arrays.copyOfRange(x, b.firstRow(s) * d, (b.firstRow(s) + rows) * d);
                weights.finalNorm().apply(all, 0, rows);
                b.run(s, b.context(s, HookName.LN_FINAL, d, 1), all);
                System.arraycopy(all, (rows - n) * d, h, at[s] * d, n * d);
            } else {
                System.arraycopy(x, (b.firstRow(s) + rows - n) * d, h, at[s] * d, n * d);
                weights.finalNorm().apply(h, at[s] * d, n);
            }
        }
        float[] logits = new float[Math.multiplyExact(wanted, V)];
        backend.matmul(weights.lmHead(), h, logits, wanted, promptRows);
        List<float[]> out = new ArrayList<>(b.sequences());
        float cap = config.finalSoftcap();
        for (int s = 0; s < b.sequences(); s++) {
            float[] own = Arrays.copyOfRange(logits, at[s] * V, (at[s] + wantedRows(b, s)) * V);
            if (cap > 0) Vectors.softcap(own, 0, own.length, cap);
            out.add(own);
        }
        return out;
    }

    /** Adds {@code bias[n]} to every row of {@code y[T][n]}; nothing when there is no bias. */
    static void addBias(float[] y, float[] bias, int T) {
        if (bias != null) addBias(y, bias, 0, T * bias.length);
    }

    /** As {@link #addBias(float[], float[], int)} over the flat range {@code y[from..to)} only. */
    static void addBias(float[] y, float[] bias, int from, int to) {
        if (bias == null) return;
        int n = bias.length;
        for (int i = from; i < to; ) {
            int c = i % n, run = Math.min(n - c, to - i);
            for (int j = 0; j < run; j++) y[i + j] += bias[c + j];
            i += run;
        }
    }
}
