/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Adds the special tokens a model expects around one encoded sequence (the tokenizer.json
 * {@code post_processor}), e.g. Gemma's leading {@code <bos>}. Applied only when special tokens are
 * requested.
 */
sealed interface PostProcessor {
    int[] apply(int[] ids);

    /** Adds nothing: the file has no post-processor, or one that only adjusts offsets (ByteLevel). */
    record Identity() implements PostProcessor {
        @Override
        public int[] apply(int[] ids) {
            return ids;
        }
    }

    /** The {@code single} template of TemplateProcessing: fixed ids before and after the sequence. */
    record Template(int[] before, int[] after) implements PostProcessor {
        @Override
        public int[] apply(int[] ids) {
            int[] out = new int[before.length + ids.length + after.length];
            System.arraycopy(before, 0, out, 0, before.length);
            System.arraycopy(ids, 0, out, before.length, ids.length);
            System.arraycopy(after, 0, out, before.length + ids.length, after.length);
            return out;
        }
    }

    /** Applies processors in order. */
    record Sequence(List<PostProcessor> steps) implements PostProcessor {
        @Override
        public int[] apply(int[] ids) {
            for (PostProcessor p : steps) ids = p.apply(ids);
            return ids;
        }
    }

    /**
     * The post-processor described by {@code node} (null or JSON null for none). {@code idOf} resolves
     * a token of the template to its id, or null.
     */
    static PostProcessor parse(JsonNode node, String where, Function<String, Integer> idOf) {
        return node == null || node.isNull() ? new Identity() : component(node, where, idOf);
    }

    private static PostProcessor component(JsonNode node, String where, Function<String, Integer> idOf) {
        String type = JsonSpec.type(node, where);
        return switch (type) {
            case "ByteLevel" -> new Identity();
            case "TemplateProcessing" -> template(node, where, idOf);
            case "Sequence" -> {
                JsonNode items = JsonSpec.requireArray(node, "processors", where);
                List<PostProcessor> steps = new ArrayList<>();
                for (int i = 0; i < items.size(); i++) {
                    steps.add(component(items.get(i), where + ".processors[" + i + "]", idOf));
                }
                yield new Sequence(List.copyOf(steps));
            }
            default -> throw JsonSpec.unsupported("post_processor", type, where, "ByteLevel, TemplateProcessing, Sequence");
        };
    }

    private static Template template(JsonNode node, String where, Function<String, Integer> idOf) {
        JsonNode single = JsonSpec.requireArray(node, "single", where);
        JsonNode specials = JsonSpec.requireObject(node.get("special_tokens"), where + ".special_tokens");
        List<Integer> before = new ArrayList<>();
        List<Integer> after = new ArrayList<>();
        boolean seenSequence = false;
        for (int i = 0; i < single.size(); i++) {
            String at = where + ".single[" + i + "]";
            JsonNode piece = JsonSpec.requireObject(single.get(i), at);
            if (piece.has("Sequence")) {
                String id = JsonSpec.requireText(JsonSpec.requireObject(piece.get("Sequence"), at + ".Sequence"), "id", at + ".Sequence");
                if (!id.equals("A")) throw JsonSpec.bad(at + ".Sequence.id", "a single-sequence template can only hold sequence A, found '" + id + "'");
                if (seenSequence) throw JsonSpec.bad(at, "sequence A appears twice");
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String name = JsonSpec.requireText(JsonSpec.requireObject(piece.get("SpecialToken"), at + ".SpecialToken"), "id", at + ".SpecialToken");
                (seenSequence ? after : before).addAll(specialIds(specials, name, where, idOf));
            } else {
                throw JsonSpec.bad(at, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}, found " + piece);
            }
        }
        if (!seenSequence) throw JsonSpec.bad(where + ".single", "template has no sequence A");
        return new Template(toArray(before), toArray(after));
    }

    private static List<Integer> specialIds(JsonNode specials, String name, String where, Function<String, Integer> idOf) {
        String at = where + ".special_tokens." + name;
        JsonNode entry = specials.get(name);
        if (entry == null) throw JsonSpec.bad(at, "the template uses '" + name + "' but special_tokens does not define it");
        JsonNode ids = JsonSpec.requireArray(entry, "ids", at);
        JsonNode tokens = JsonSpec.requireArray(entry, "tokens", at);
        if (ids.size() != tokens.size()) throw JsonSpec.bad(at, ids.size() + " ids but " + tokens.size() + " tokens");
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            if (!ids.get(i).canConvertToInt() || ids.get(i).intValue() < 0) {
                throw JsonSpec.bad(at + ".ids[" + i + "]", "expected a token id, found " + ids.get(i));
            }
            int id = ids.get(i).intValue();
            String token = tokens.get(i).asText();
            Integer known = idOf.apply(token);
            // A template naming an id that is not its token's id would silently feed the model the wrong token.
            if (known == null || known != id) {
                throw JsonSpec.bad(at + ".ids[" + i + "]", "id " + id + " but token '" + token + "' has id " + known);
            }
            out.add(id);
        }
        return out;
    }

    private static int[] toArray(List<Integer> ids) {
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
