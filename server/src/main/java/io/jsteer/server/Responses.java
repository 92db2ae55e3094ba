/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Response bodies in OpenAI's shapes: {@code text_completion} and {@code chat.completion} objects,
 * their streamed chunks ({@code text_completion} / {@code chat.completion.chunk}), usage, and
 * log-probabilities in each endpoint's own layout. One instance per request: it keeps each
 * choice's text offset for the completions layout.
 */
final class Responses {
    private final ObjectMapper json;
    private final Served served;
    private final String id;
    private final long created;
    private final boolean chat;
    private final int[] textOffset;
    private final boolean logprobs;

    Responses(ObjectMapper json, Served served, String id, long created, boolean chat, int choices, int topLogprobs) {
        this.json = json;
        this.served = served;
        this.id = id;
        this.created = created;
        this.chat = chat;
        this.textOffset = new int[choices];
        this.logprobs = topLogprobs >= 0;
    }

    private ObjectNode head(String object) {
        return json.createObjectNode().put("id", id).put("object", object).put("created", created).put("model", served.id());
    }

    /** OpenAI has no reason for a generation cut short by the server; vLLM's "abort" is what clients of compatible servers know. */
    private static String reason(String finish) {
        return "cancelled".equals(finish) ? "abort" : finish;
    }

    /** The whole response of a request that did not stream, from all its choices' events. */
    ObjectNode whole(List<CompletionJob.Event> events, int promptTokens) {
        int choices = textOffset.length;
        StringBuilder[] text = new StringBuilder[choices];
        ArrayNode[] lps = new ArrayNode[choices];
        String[] finish = new String[choices];
        int completion = 0;
        for (int c = 0; c < choices; c++) text[c] = new StringBuilder();
        for (CompletionJob.Event e : events) {
            text[e.index()].append(e.text());
            if (logprobs && !e.logprobs().isEmpty()) {
                if (lps[e.index()] == null) lps[e.index()] = json.createArrayNode();
                lps[e.index()].add(logprobs(e));
            }
            if (e.last()) {
                finish[e.index()] = reason(e.finishReason());
                completion += e.completionTokens();
            }
        }
        ObjectNode o = head(chat ? "chat.completion" : "text_completion");
        ArrayNode out = o.putArray("choices");
        for (int c = 0; c < choices; c++) {
            ObjectNode choice = out.addObject().put("index", c);
            if (chat) choice.putObject("message").put("role", "assistant").put("content", text[c].toString());
            else choice.put("text", text[c].toString());
            if (!logprobs) choice.putNull("logprobs");
            else choice.set("logprobs", merge(lps[c]));
            choice.put("finish_reason", finish[c] == null ? "length" : finish[c]);
        }
        if (choices == 0) {
            // max_tokens 0: one empty choice, as OpenAI answers
            ObjectNode choice = out.addObject().put("index", 0);
            if (chat) choice.putObject("message").put("role", "assistant").put("content", "");
            else choice.put("text", "");
            choice.putNull("logprobs").put("finish_reason", "length");
        }
        usage(o.putObject("usage"), promptTokens, completion);
        return o;
    }

    /** Joins the log-probability pieces of one choice into its endpoint's single object. */
    private ObjectNode merge(ArrayNode pieces) {
        ObjectNode all = json.createObjectNode();
        if (chat) {
            ArrayNode content = all.putArray("content");
            if (pieces != null) for (var p : pieces) content.addAll((ArrayNode) p.get("content"));
            return all;
        }
        ArrayNode tokens = all.putArray("tokens"), lp = all.putArray("token_logprobs"), top = all.putArray("top_logprobs"), off = all.putArray("text_offset");
        if (pieces != null) {
            for (var p : pieces) {
                tokens.addAll((ArrayNode) p.get("tokens"));
                lp.addAll((ArrayNode) p.get("token_logprobs"));
                top.addAll((ArrayNode) p.get("top_logprobs"));
                off.addAll((ArrayNode) p.get("text_offset"));
            }
        }
        return all;
    }

    private ObjectNode logprobs(CompletionJob.Event e) {
        ObjectNode o = json.createObjectNode();
        if (chat) {
            ArrayNode content = o.putArray("content");
            for (CompletionJob.TokenLogprob t : e.logprobs()) {
                ObjectNode c = token(content.addObject(), t.id(), t.logprob());
                ArrayNode top = c.putArray("top_logprobs");
                for (CompletionJob.Top alt : t.top()) token(top.addObject(), alt.id(), alt.logprob());
            }
            return o;
        }
        ArrayNode tokens = o.putArray("tokens"), lp = o.putArray("token_logprobs"), top = o.putArray("top_logprobs"), off = o.putArray("text_offset");
        for (CompletionJob.TokenLogprob t : e.logprobs()) {
            String s = text(t.id());
            tokens.add(s);
            lp.add(t.logprob());
            ObjectNode alts = top.addObject();
            for (CompletionJob.Top alt : t.top()) alts.put(text(alt.id()), alt.logprob());
            off.add(textOffset[e.index()]);
            textOffset[e.index()] += s.length();
        }
        return o;
    }

    private ObjectNode token(ObjectNode o, int id, double logprob) {
        String s = text(id);
        o.put("token", s).put("logprob", logprob);
        ArrayNode bytes = o.putArray("bytes");
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
        return o;
    }

    private String text(int id) {
        return served.tokenizer().decode(new int[] {id}, false);
    }

    /** The first chunk of a streamed chat choice: the assistant role, no content yet. */
    ObjectNode roleChunk(int index) {
        ObjectNode o = head("chat.completion.chunk");
        ObjectNode choice = o.putArray("choices").addObject().put("index", index);
        choice.putObject("delta").put("role", "assistant").put("content", "");
        choice.putNull("logprobs").putNull("finish_reason");
        return o;
    }

    /** The chunk of one event: a text piece, or the end of a choice. */
    ObjectNode chunk(CompletionJob.Event e) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = o.putArray("choices").addObject().put("index", e.index());
        if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (!e.last()) delta.put("content", e.text());
        } else {
            choice.put("text", e.text());
        }
        if (logprobs && !e.logprobs().isEmpty()) choice.set("logprobs", logprobs(e));
        else choice.putNull("logprobs");
        if (e.last()) choice.put("finish_reason", reason(e.finishReason()));
        else choice.putNull("finish_reason");
        return o;
    }

    /** The last chunk when {@code stream_options.include_usage} is set: no choices, the request's usage. */
    ObjectNode usageChunk(int promptTokens, int completionTokens) {
        ObjectNode o = head(chat ? "chat.completion.chunk" : "text_completion");
        o.putArray("choices");
        usage(o.putObject("usage"), promptTokens, completionTokens);
        return o;
    }

    private static void usage(ObjectNode u, int prompt, int completion) {
        u.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
    }
}
