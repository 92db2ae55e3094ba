/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.tests.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.source.util.DocTrees;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.util.ElementFilter;
import javax.lang.model.util.Elements;
import javax.tools.DocumentationTool;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import jdk.javadoc.doclet.Doclet;
import jdk.javadoc.doclet.DocletEnvironment;
import jdk.javadoc.doclet.Reporter;
import org.junit.jupiter.api.Test;

/**
 * Every public type of the library API, and every public or protected member of one, has a
 * Javadoc comment. The javadoc build (doclint without its "missing" group) checks what comments
 * say; this checks that they are there, without asking for a {@code @param} per parameter. The
 * library API is every package of weights-loader, transformer and steering, and the built-in
 * default model of the cli module; the rest of the cli is the command line's inside.
 */
class ApiDocumentationTest {
    static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
    static final List<Path> API_SOURCES = List.of(
            REPO.resolve("weights-loader/src/main/java"),
            REPO.resolve("transformer/src/main/java"),
            REPO.resolve("steering/src/main/java"),
            REPO.resolve("cli/src/main/java/io/jsteer/cli/defaultmodel"));

    @Test
    void everyPublicTypeAndMemberHasAComment() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path root : API_SOURCES) {
            try (Stream<Path> s = Files.walk(root)) {
                s.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java")).forEach(files::add);
            }
        }
        assertTrue(files.size() > 100, "found only " + files.size() + " source files under " + API_SOURCES);
        DocumentationTool javadoc = ToolProvider.getSystemDocumentationTool();
        StringWriter log = new StringWriter();
        try (StandardJavaFileManager fm = javadoc.getStandardFileManager(null, Locale.ROOT, null)) {
            Iterable<? extends JavaFileObject> units = fm.getJavaFileObjectsFromPaths(files);
            List<String> options = List.of("--add-modules", "jdk.incubator.vector", "-classpath", System.getProperty("java.class.path"), "-quiet");
            Missing.found.clear();
            boolean ok = javadoc.getTask(log, fm, null, Missing.class, options, units).call();
            assertTrue(ok, "javadoc could not read the sources:\n" + log);
        }
        assertTrue(Missing.checked > 500, "checked only " + Missing.checked + " elements");
        assertEquals("", String.join("\n", Missing.found),
                Missing.found.size() + " public types or members have no Javadoc comment:\n" + String.join("\n", Missing.found));
    }

    /** A doclet that lists what has no comment instead of writing pages. */
    public static final class Missing implements Doclet {
        static final List<String> found = new ArrayList<>();
        static int checked;
        private DocTrees trees;
        private Elements elements;

        @Override
        public void init(Locale locale, Reporter reporter) {}

        @Override
        public String getName() {
            return "missing-comments";
        }

        @Override
        public Set<? extends Option> getSupportedOptions() {
            return Set.of();
        }

        @Override
        public SourceVersion getSupportedSourceVersion() {
            return SourceVersion.latest();
        }

        @Override
        public boolean run(DocletEnvironment env) {
            trees = env.getDocTrees();
            elements = env.getElementUtils();
            checked = 0;
            for (TypeElement type : ElementFilter.typesIn(env.getIncludedElements())) {
                if (!visible(type)) continue;
                check(type, type.getQualifiedName().toString());
                for (Element member : type.getEnclosedElements()) {
                    if (!isMember(member) || !exposed(type, member)) continue;
                    check(member, type.getQualifiedName() + "#" + signature(member));
                }
            }
            return true;
        }

        private void check(Element e, String what) {
            checked++;
            if (elements.getOrigin(e) == Elements.Origin.MANDATED && e.getKind() == ElementKind.CONSTRUCTOR) {
                // an implicit public constructor is API nobody documented
                if (e.getEnclosingElement().getKind() == ElementKind.CLASS) found.add(what + ": implicit public constructor (declare and document it)");
                return;
            }
            if (elements.getOrigin(e) != Elements.Origin.EXPLICIT) return;
            if (trees.getPath(e) == null) return; // generated, such as a record's accessors and equals
            if (e instanceof ExecutableElement c && elements.isCanonicalConstructor(c)) return; // the record's comment names its components
            if (e.getAnnotation(Override.class) != null) return; // inherits the overridden method's comment
            if (trees.getDocCommentTree(e) == null) found.add(what);
        }

        /** Public, and every enclosing type public too. */
        private static boolean visible(TypeElement type) {
            for (Element e = type; e instanceof TypeElement t; e = t.getEnclosingElement()) {
                if (!t.getModifiers().contains(Modifier.PUBLIC)) return false;
            }
            return true;
        }

        private static boolean isMember(Element e) {
            return switch (e.getKind()) {
                case METHOD, CONSTRUCTOR, FIELD, ENUM_CONSTANT -> true;
                default -> false;
            };
        }

        /** Public members, and protected ones of classes that can be extended. */
        private static boolean exposed(TypeElement type, Element member) {
            Set<Modifier> m = member.getModifiers();
            if (m.contains(Modifier.PUBLIC)) return true;
            if (member.getKind() == ElementKind.ENUM_CONSTANT) return true;
            return m.contains(Modifier.PROTECTED) && !type.getModifiers().contains(Modifier.FINAL);
        }

        private static String signature(Element e) {
            if (e instanceof ExecutableElement x) {
                String name = x.getKind() == ElementKind.CONSTRUCTOR ? x.getEnclosingElement().getSimpleName().toString() : x.getSimpleName().toString();
                return name + "(" + String.join(", ", x.getParameters().stream().map(p -> p.asType().toString()).toList()) + ")";
            }
            return e.getSimpleName().toString();
        }
    }
}
