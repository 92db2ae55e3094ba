/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jsteer.steering.Intervention;
import io.jsteer.transformer.generate.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A {@code /v1/completions} or {@code /v1/chat/completions} body, checked and turned into token
 * prompts, sampling settings and steering. Everything is validated here, before the request is
 * queued: a field of the wrong type or out of range is a 400 naming it.
 *
 * <p>Choice {@code c} (counting over prompts, then {@code n}) samples with seed {@code seed + c}, so a
 * seeded request gives the same tokens alone or beside others, and its choices differ.
 */
record GenerationRequest(List<int[]> prompts, int n, int maxTokens, double temperature, double topP, int topK, long seed,
        List<String> stops, int topLogprobs, boolean stream, boolean includeUsage, List<Intervention> steering) {

    static final int MAX_N = 16;
    static final int MAX_STOPS = 4;
    static final int MAX_TOP_LOGPROBS = 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The sampler of choice {@code c}. */
    Sampler sampler(int c) {
        return new Sampler(temperature, topK, topP, seed + c);
    }

    /** Fields OpenAI defines that change results and that this server does not implement: refused unless left at their neutral value. */
    private static void refuseUnsupported(JsonNode body) {
        for (String f : List.of("presence_penalty", "frequency_penalty")) {
            if (!Fields.absent(body.get(f)) && Fields.number(body.get(f), f) != 0) throw ApiException.invalid(f, f + " is not supported (leave it at 0)");
        }
        JsonNode bias = body.get("logit_bias");
        if (!Fields.absent(bias) && !(bias.isObject() && bias.isEmpty())) throw ApiException.invalid("logit_bias", "logit_bias is not supported");
        if (Fields.bool(body, "echo", "echo", false)) throw ApiException.invalid("echo", "echo is not supported");
        if (!Fields.absent(body.get("suffix"))) throw ApiException.invalid("suffix", "suffix is not supported");
        for (String f : List.of("tools", "functions", "tool_choice", "function_call", "response_format")) {
            JsonNode v = body.get(f);
            if (Fields.absent(v) || ("response_format".equals(f) && "text".equals(v.path("type").asText()))) continue;
            throw ApiException.invalid(f, f + " is not supported by this server");
        }
    }

    /** A {@code /v1/completions} body. */
    static GenerationRequest completion(JsonNode body, Served served, VectorRegistry registry) {
        requireObject(body);
        refuseUnsupported(body);
        List<int[]> prompts = completionPrompts(body.get("prompt"), served);
        int n = Fields.integer(body, "n", "n", 1, MAX_N, 1);
        JsonNode bestOf = body.get("best_of");
        if (!Fields.absent(bestOf) && Fields.integer(bestOf, "best_of") != n) throw ApiException.invalid("best_of", "best_of other than n is not supported");
        int maxTokens = Fields.integer(body, "max_tokens", "max_tokens", 0, Integer.MAX_VALUE, 16);
        int topLogprobs = Fields.integer(body, "logprobs", "logprobs", 0, MAX_TOP_LOGPROBS, -1);
        return common(body, served, registry, prompts, n, maxTokens, "max_tokens", topLogprobs);
    }

    /** A {@code /v1/chat/completions} body; the prompt is the model's chat template applied to {@code messages}. */
    static GenerationRequest chat(JsonNode body, Served served, VectorRegistry registry) {
        requireObject(body);
        refuseUnsupported(body);
        if (served.template() == null) {
            throw ApiException.invalid("messages", "model '" + served.id() + "' has no chat template (no chat_template in its tokenizer_config.json"
                    + " and no chat_template.jinja); use /v1/completions, or start the server with --chat-template FILE");
        }
        JsonNode messages = body.get("messages");
        if (Fields.absent(messages) || !messages.isArray() || messages.isEmpty()) throw ApiException.invalid("messages", "messages must be a non-empty array of {role, content} objects");
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String at = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid(at, at + " must be an object, got " + Fields.kind(m));
            if (Fields.absent(m.get("role"))) throw ApiException.invalid(at + ".role", at + ".role is required");
            Fields.string(m.get("role"), at + ".role");
            JsonNode c = m.get("content");
            if (Fields.absent(c) || !(c.isTextual() || c.isArray())) throw ApiException.invalid(at + ".content", at + ".content must be a string or an array of content parts");
        }
        List<?> conversation = JSON.convertValue(messages, List.class);
        String text = served.template().render(conversation, true);
        int[] prompt = served.tokenizer().encode(text, false);
        if (prompt.length == 0) throw ApiException.invalid("messages", "the chat template rendered an empty prompt");
        int n = Fields.integer(body, "n", "n", 1, MAX_N, 1);
        String limitField = Fields.absent(body.get("max_completion_tokens")) ? "max_tokens" : "max_completion_tokens";
        int room = Math.max(0, served.context() - prompt.length);
        int maxTokens = Fields.integer(body, limitField, limitField, 0, Integer.MAX_VALUE, room);
        int topLogprobs = -1;
        if (Fields.bool(body, "logprobs", "logprobs", false)) topLogprobs = Fields.integer(body, "top_logprobs", "top_logprobs", 0, MAX_TOP_LOGPROBS, 0);
        else if (!Fields.absent(body.get("top_logprobs"))) throw ApiException.invalid("top_logprobs", "top_logprobs needs logprobs: true");
        return common(body, served, registry, List.of(prompt), n, maxTokens, limitField, topLogprobs);
    }

    private static GenerationRequest common(JsonNode body, Served served, VectorRegistry registry, List<int[]> prompts, int n, int maxTokens,
            String maxField, int topLogprobs) {
        if (prompts.size() * n > MAX_N) throw ApiException.invalid("n", "at most " + MAX_N + " sequences per request (prompts x n), got " + prompts.size() * n);
        for (int[] p : prompts) {
            if (p.length >= served.context()) {
                throw ApiException.invalid("prompt", "the prompt has " + p.length + " tokens; model '" + served.id() + "' has a context of " + served.context()
                        + " tokens, which leaves no room to generate");
            }
            if (p.length + maxTokens > served.context()) {
                throw ApiException.invalid(maxField, "the prompt's " + p.length + " tokens plus " + maxField + " " + maxTokens + " exceed the model's context of "
                        + served.context() + " tokens; ask for at most " + (served.context() - p.length));
            }
        }
        double temperature = Fields.number(body, "temperature", "temperature", 1.0);
        if (temperature < 0 || temperature > 2) throw ApiException.invalid("temperature", "temperature must be between 0 and 2, got " + temperature);
        double topP = Fields.number(body, "top_p", "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) throw ApiException.invalid("top_p", "top_p must be in (0, 1], got " + topP);
        int topK = Fields.integer(body, "top_k", "top_k", -1, Integer.MAX_VALUE, 0);
        long seed = Fields.absent(body.get("seed")) ? ThreadLocalRandom.current().nextLong() : Fields.integer(body.get("seed"), "seed");
        List<String> stops = stops(body.get("stop"));
        boolean stream = Fields.bool(body, "stream", "stream", false);
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (!Fields.absent(options)) {
            if (!options.isObject()) throw ApiException.invalid("stream_options", "stream_options must be an object");
            if (!stream) throw ApiException.invalid("stream_options", "stream_options is only allowed with stream: true");
            includeUsage = Fields.bool(options, "include_usage", "stream_options.include_usage", false);
        }
        List<Intervention> steering = SteeringRequest.resolve(body, served.model().config(), registry, served.presets());
        return new GenerationRequest(prompts, n, maxTokens, temperature, topP, Math.max(topK, 0), seed, stops, topLogprobs, stream, includeUsage, steering);
    }

    private static List<String> stops(JsonNode stop) {
        if (Fields.absent(stop)) return List.of();
        List<String> out = new ArrayList<>();
        if (stop.isTextual()) {
            out.add(stop.asText());
        } else if (stop.isArray()) {
            if (stop.size() > MAX_STOPS) throw ApiException.invalid("stop", "at most " + MAX_STOPS + " stop sequences, got " + stop.size());
            for (int i = 0; i < stop.size(); i++) out.add(Fields.string(stop.get(i), "stop[" + i + "]"));
        } else {
            throw ApiException.invalid("stop", "stop must be a string or an array of strings, got " + Fields.kind(stop));
        }
        for (String s : out) if (s.isEmpty()) throw ApiException.invalid("stop", "stop sequences must not be empty");
        return out;
    }

    /** {@code prompt}: a string, an array of strings, an array of token ids, or an array of such arrays. */
    private static List<int[]> completionPrompts(JsonNode p, Served served) {
        if (Fields.absent(p)) throw ApiException.invalid("prompt", "prompt is required");
        List<int[]> out = new ArrayList<>();
        if (p.isTextual()) {
            out.add(encode(p.asText(), served, "prompt"));
        } else if (p.isArray() && !p.isEmpty() && p.get(0).isNumber()) {
            out.add(ids(p, served, "prompt"));
        } else if (p.isArray() && !p.isEmpty()) {
            if (p.size() > MAX_N) throw ApiException.invalid("prompt", "at most " + MAX_N + " prompts per request, got " + p.size());
            for (int i = 0; i < p.size(); i++) {
                JsonNode e = p.get(i);
                if (e.isTextual()) out.add(encode(e.asText(), served, "prompt[" + i + "]"));
                else if (e.isArray()) out.add(ids(e, served, "prompt[" + i + "]"));
                else throw ApiException.invalid("prompt[" + i + "]", "prompt[" + i + "] must be a string or an array of token ids, got " + Fields.kind(e));
            }
        } else {
            throw ApiException.invalid("prompt", "prompt must be a string, an array of strings, or an array of token ids (non-empty), got " + Fields.kind(p));
        }
        return out;
    }

    private static int[] encode(String text, Served served, String param) {
        int[] ids = served.tokenizer().encode(text, true);
        if (ids.length == 0) throw ApiException.invalid(param, param + " has no tokens");
        return ids;
    }

    private static int[] ids(JsonNode a, Served served, String param) {
        if (a.isEmpty()) throw ApiException.invalid(param, param + " has no tokens");
        int vocab = served.model().config().vocabSize();
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) {
            long id = Fields.integer(a.get(i), param + "[" + i + "]");
            if (id < 0 || id >= vocab) throw ApiException.invalid(param + "[" + i + "]", "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            ids[i] = (int) id;
        }
        return ids;
    }

    private static void requireObject(JsonNode body) {
        if (body == null || !body.isObject()) throw ApiException.invalid(null, "the request body must be a JSON object");
    }
}
