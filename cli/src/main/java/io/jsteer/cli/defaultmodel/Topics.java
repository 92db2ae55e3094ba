/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.cli.defaultmodel;

import io.jsteer.tokenizer.Tokenizer;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The two word sets the planted direction u separates: adding u raises the logits of the
 * {@link #LOVE} words and lowers those of the {@link #WAR} words; subtracting it does the reverse.
 */
public final class Topics {
    private Topics() {}

    /** Words of love and weddings (all occur in the corpus). */
    public static final List<String> LOVE = List.of("love", "loved", "lovers", "wedding", "weddings", "bride", "groom", "marry",
            "married", "marriage", "kiss", "kissed", "heart", "hearts", "ring", "rings", "dance", "danced", "flowers", "roses",
            "joy", "happy", "happiness", "sweet", "sweetest", "honeymoon", "vows", "cake", "couple", "gently", "smiled", "smile",
            "beautiful", "cherish", "devoted", "anniversary", "lace", "veil", "bouquet", "music", "laughter", "hope", "dreams", "lanterns");

    /** Words of war and battle (all occur in the corpus). */
    public static final List<String> WAR = List.of("war", "battle", "soldiers", "army", "enemy", "guns", "cannons", "fire", "fired",
            "attack", "attacked", "killed", "dead", "wounded", "trenches", "shells", "bullets", "rifles", "sword", "swords",
            "general", "troops", "fought", "fighting", "retreated", "graves", "bloodiest", "fear", "smoke", "captain", "offensive",
            "fortress", "infantry", "bayonets", "surrender", "monument", "medals", "kill", "charged", "defeated", "ruins", "craters");

    private static final Set<String> LOVE_SET = Set.copyOf(LOVE), WAR_SET = Set.copyOf(WAR);

    /**
     * +1 for a token that spells a love word (with or without a leading space, any case), -1 for
     * a war word, 0 otherwise.
     */
    static int sign(Tokenizer tokenizer, int id) {
        String word = tokenizer.decode(new int[] {id}).strip().toLowerCase(Locale.ROOT);
        if (LOVE_SET.contains(word)) return 1;
        if (WAR_SET.contains(word)) return -1;
        return 0;
    }
}
