/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.spark;

import io.jsteer.cli.steer.LoadedModel;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/** Reads a row's prompt: its text, tokenized as the command line does, or its token ids, checked against the model. */
final class Prompts {
    private Prompts() {}

    /** A row's prompt as ids, or why it cannot be run. */
    record Parsed(int[] ids, String error) {}

    /** Fails, naming the columns, unless the input has a string text column or an {@code array<int>} ids column. */
    static void check(StructType input, Options o) {
        DataType text = type(input, o.textColumn()), ids = type(input, o.idsColumn());
        if (text == null && ids == null) {
            throw new IllegalArgumentException("the input has neither a prompt text column '" + o.textColumn() + "' nor a token ids column '"
                    + o.idsColumn() + "' (columns: " + String.join(", ", input.fieldNames()) + ")");
        }
        if (text != null && !text.equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + o.textColumn() + "' must be a string, it is " + text.simpleString());
        }
        if (ids != null && !(ids instanceof ArrayType a && (a.elementType().equals(DataTypes.IntegerType) || a.elementType().equals(DataTypes.LongType)))) {
            throw new IllegalArgumentException("column '" + o.idsColumn() + "' must be array<int>, it is " + ids.simpleString());
        }
    }

    private static DataType type(StructType s, String column) {
        if (column == null) return null;
        Option<Object> i = s.getFieldIndex(column);
        return i.isDefined() ? ((StructField) s.fields()[(Integer) i.get()]).dataType() : null;
    }

    /** The row's prompt ids, or its error; text (column {@code ti}, -1 if none) wins over ids (column {@code ii}) when the row has both. */
    static Parsed parse(Row row, int ti, int ii, Options o, LoadedModel m) {
        int context = m.model().config().maxPositions(), vocab = m.model().config().vocabSize();
        int[] ids;
        String column;
        if (ti >= 0 && !row.isNullAt(ti)) {
            column = o.textColumn();
            String text = row.getString(ti);
            if (text.isEmpty()) return new Parsed(null, column + ": the prompt is empty");
            if (m.tokenizer() == null) return new Parsed(null, column + ": " + m.dir() + " has no tokenizer.json; give token ids in '" + o.idsColumn() + "'");
            ids = m.tokenizer().encode(text, true);
            if (ids.length == 0) return new Parsed(null, column + ": the text has no tokens");
        } else if (ii >= 0 && !row.isNullAt(ii)) {
            column = o.idsColumn();
            List<Object> list = row.getList(ii);
            ids = new int[list.size()];
            for (int i = 0; i < ids.length; i++) {
                Object v = list.get(i);
                if (v == null) return new Parsed(null, column + ": token " + i + " is null");
                long id = ((Number) v).longValue();
                if (id < 0 || id >= vocab) return new Parsed(null, column + ": token id " + id + " is outside the vocabulary [0, " + vocab + ")");
                ids[i] = (int) id;
            }
            if (ids.length == 0) return new Parsed(null, column + ": the prompt is empty");
        } else {
            return new Parsed(null, "no prompt: '" + o.textColumn() + "' and '" + o.idsColumn() + "' are both null or absent");
        }
        if (ids.length > context) {
            return new Parsed(null, column + ": prompt of " + ids.length + " tokens exceeds the model's max_position_embeddings " + context);
        }
        return new Parsed(ids, null);
    }

    /** The index of {@code column} in {@code s}, or -1. */
    static int index(StructType s, String column) {
        if (column == null) return -1;
        Option<Object> i = s.getFieldIndex(column);
        return i.isDefined() ? (Integer) i.get() : -1;
    }
}
