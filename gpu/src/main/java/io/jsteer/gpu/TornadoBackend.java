/*
 * Copyright the jsteer authors.
 * SPDX-License-Identifier: Apache-2.0
 */
package io.jsteer.gpu;

import io.jsteer.transformer.Model;
import io.jsteer.transformer.State;
import io.jsteer.transformer.backend.Backend;
import io.jsteer.transformer.backend.CpuBackend;
import io.jsteer.transformer.backend.DeviceBackend;
import io.jsteer.weights.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.TornadoDeviceType;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/**
 * A {@link DeviceBackend} on a TornadoVM device (a GPU through OpenCL, PTX or SPIR-V, or a CPU
 * OpenCL device such as PoCL). {@link io.jsteer.transformer.Model#forward} runs whole forward passes
 * here ({@link #forward}): weights, residual stream and KV cache stay on the device, only logits
 * come back. {@link #matmul} offloads a single weight product for callers outside a forward pass.
 *
 * <p>Each weight matrix is uploaded, widened to F32, the first time it is multiplied, and stays on
 * the device until {@link #close()}; afterwards only activations move. A matrix that would not fit
 * (one buffer larger than the device's maximum allocation, or the device's memory used up) is
 * multiplied on the CPU instead, and {@link #cpuFallbacks()} names it.
 *
 * <p>Obtain one with {@link #tryCreate}, which returns empty instead of failing when TornadoVM is
 * not on this JVM or has no usable device, so the caller can keep the CPU backend.
 */
public final class TornadoBackend implements DeviceBackend, AutoCloseable {
    /** System property choosing the device as {@code backendIndex:deviceIndex} (as {@code tornado --devices} lists them). */
    public static final String DEVICE_PROPERTY = "jsteer.tornado.device";
    /**
     * TornadoVM's option to run a task graph as sequential Java when its kernel fails to compile or
     * run. For this backend that would only hide the failure behind a very slow product.
     */
    static final String BAILOUT_PROPERTY = "tornado.recover.bailout";
    /** TornadoVM's bytecode buffer per task graph, read once when TornadoVM first compiles a graph. */
    static final String BYTECODE_PROPERTY = "tornado.tvm.maxbytecodesize";
    /** Share of the device's global memory the weights may take; the rest is left to the runtime. */
    private static final double MEMORY_SHARE = 0.9;

    private final TornadoDevice device;
    private final long maxAllocBytes;
    private final long budgetBytes;
    private final Consumer<String> report;
    private final Map<Tensor, DeviceMatrix> resident = new IdentityHashMap<>();
    private final Map<Tensor, Boolean> onCpu = new IdentityHashMap<>();
    /** Models run on the device, by identity (Model keeps Object's equality); a model's device copy goes when the model does. */
    private final Map<Model, DeviceModel> models = new WeakHashMap<>();
    private long usedBytes;

    TornadoBackend(TornadoDevice device, long maxAllocBytes, long budgetBytes, Consumer<String> report) {
        this.device = device;
        this.maxAllocBytes = maxAllocBytes;
        this.budgetBytes = budgetBytes;
        this.report = report;
    }

    /**
     * A backend on the chosen device: the one named by {@value #DEVICE_PROPERTY}, else the first GPU,
     * else TornadoVM's default device. Empty, with the reason given to {@code report}, when this JVM
     * was not started with TornadoVM's flags ({@code @$TORNADOVM_HOME/tornado-argfile}), TornadoVM
     * finds no device, or the device fails a small matvec self-check against the CPU backend. On
     * success {@code report} receives one line naming the device.
     *
     * <p>Unless the JVM sets {@value #BAILOUT_PROPERTY} itself, this sets it to {@code False} before
     * TornadoVM initializes, so that a kernel failure surfaces (here, in the self-check) instead of
     * silently running as sequential Java.
     */
    public static Optional<TornadoBackend> tryCreate(Consumer<String> report) {
        if (System.getProperty("tornado.load.runtime.implementation") == null) {
            report.accept("TornadoVM is not configured in this JVM (start java with @$TORNADOVM_HOME/tornado-argfile); "
                    + "using the CPU backend");
            return Optional.empty();
        }
        String bailout = System.getProperty(BAILOUT_PROPERTY);
        if (bailout == null) {
            System.setProperty(BAILOUT_PROPERTY, "False");
        } else if (Boolean.parseBoolean(bailout)) {
            report.accept("warning: " + BAILOUT_PROPERTY + "=" + bailout
                    + ": a kernel that fails on the device will run as sequential Java, silently and slowly");
        }
        // a block's task graph outgrows TornadoVM's default 4 KiB of bytecode per graph
        if (System.getProperty(BYTECODE_PROPERTY) == null) System.setProperty(BYTECODE_PROPERTY, "65536");
        TornadoBackend backend;
        try {
            TornadoDevice device = chooseDevice(TornadoRuntimeProvider.getTornadoRuntime(), System.getProperty(DEVICE_PROPERTY));
            backend = new TornadoBackend(device, device.getMaxAllocMemory(),
                    (long) (device.getMaxGlobalMemory() * MEMORY_SHARE), report);
        } catch (LinkageError | RuntimeException e) {
            report.accept("TornadoVM is unavailable (" + e + "); using the CPU backend");
            return Optional.empty();
        }
        try {
            SelfCheck.run(backend.device);
        } catch (LinkageError | RuntimeException e) {
            backend.close();
            report.accept("TornadoVM device " + backend.deviceDescription() + " failed its self-check (" + e + "); using the CPU backend");
            return Optional.empty();
        }
        if (!signalChaining()) {
            report.accept("warning: the JVM was started without LD_PRELOAD=$JAVA_HOME/lib/libjsig.so: the OpenCL driver's compiler "
                    + "(LLVM, in PoCL) replaces the JVM's signal handlers when it builds a kernel, which can kill the JVM "
                    + "(SIGSEGV, exit 139; the jsteer launcher preloads it)");
        }
        report.accept("TornadoVM backend on " + backend.deviceDescription());
        return Optional.of(backend);
    }

    /**
     * Whether HotSpot's signal-chaining library ({@code libjsig.so}) is loaded, as {@code
     * LD_PRELOAD} loads it. The JVM handles SIGSEGV itself (safepoint polls, implicit null
     * checks) and SIGFPE (division by zero). LLVM, which PoCL runs in this process to build each
     * kernel, installs its own handlers for them (clang's remove-output-file-on-signal) with
     * {@code SA_RESETHAND}; its handler puts the previous ones back, but a second thread faulting
     * before it has done so meets the default action and the process dies with no error report.
     * With libjsig the JVM keeps its handlers and calls LLVM's only for faults it does not own.
     * True where this cannot be told ({@code /proc/self/maps} absent).
     */
    static boolean signalChaining() {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return true;
        try (Stream<String> lines = Files.lines(maps)) {
            return lines.anyMatch(l -> l.endsWith("/libjsig.so"));
        } catch (IOException | UncheckedIOException e) {
            return true;
        }
    }

    private static TornadoDevice chooseDevice(TornadoRuntime runtime, String wanted) {
        if (runtime == null || runtime.getNumBackends() == 0) {
            throw new IllegalStateException("TornadoVM found no backend");
        }
        if (wanted != null) {
            String[] parts = wanted.split(":");
            try {
                if (parts.length != 2) throw new NumberFormatException();
                var backend = runtime.getBackend(Integer.parseInt(parts[0]));
                return backend.getDevice(Integer.parseInt(parts[1]));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(DEVICE_PROPERTY + "=" + wanted
                        + " does not name a device as backend:device (see `tornado --devices`)", e);
            }
        }
        List<TornadoDevice> all = new ArrayList<>();
        for (int b = 0; b < runtime.getNumBackends(); b++) {
            all.addAll(runtime.getBackend(b).getAllDevices());
        }
        if (all.isEmpty()) {
            throw new IllegalStateException("TornadoVM found no device");
        }
        return all.stream().filter(d -> d.getDeviceType() == TornadoDeviceType.GPU).findFirst()
                .orElse(runtime.getDefaultDevice());
    }

    @Override
    public void matmul(Tensor w, float[] x, float[] out, int tokens) {
        if (w.rank() != 2) {
            throw new IllegalArgumentException("weight " + w + " is not a matrix");
        }
        long need = (long) tokens * w.shape()[1];
        long give = (long) tokens * w.shape()[0];
        if (tokens < 0 || x.length < need || out.length < give) {
            throw new IllegalArgumentException("matmul with " + w + " over " + tokens + " tokens needs x of " + need
                    + " and out of " + give + " floats; got " + x.length + " and " + out.length);
        }
        DeviceMatrix m = residentOrNull(w);
        if (m == null) {
            CpuBackend.INSTANCE.matmul(w, x, out, tokens);
        } else {
            m.matmul(x, out, tokens);
        }
    }

    /**
     * Runs the whole forward pass on the device (see {@link DeviceModel}): the model's weights are
     * uploaded on its first call and stay, as do the residual stream and the sequence's KV cache;
     * only the logits (and hooked activations) cross to the host.
     */
    @Override
    public float[] forward(Model model, State state, int[] tokens, boolean allLogits) {
        return deviceModel(model).forward(state, tokens, allLogits);
    }

    /** As {@link #forward}, through the first {@code layers} blocks, for their hooks only. */
    @Override
    public void forwardBlocks(Model model, State state, int[] tokens, int layers) {
        deviceModel(model).forwardBlocks(state, tokens, layers);
    }

    /** {@code -Djsteer.tornado.sequences=N}, default 2: every model on this device keeps that many KV caches. */
    @Override
    public int maxSequences() {
        return DeviceModel.sequences();
    }

    /** The model's weights and kernels on the device, uploaded and compiled on its first call. */
    private synchronized DeviceModel deviceModel(Model model) {
        return models.computeIfAbsent(model, k -> new DeviceModel(k, device));
    }

    /** The device copy of {@code w}, uploading it on first use; null when it must stay on the CPU. */
    private synchronized DeviceMatrix residentOrNull(Tensor w) {
        DeviceMatrix m = resident.get(w);
        if (m != null || onCpu.containsKey(w)) {
            return m;
        }
        long bytes = DeviceMatrix.deviceBytes(w);
        long largest = 4L * w.size();
        if (!DeviceMatrix.indexable(w) || largest > maxAllocBytes || usedBytes + bytes > budgetBytes) {
            onCpu.put(w, Boolean.TRUE);
            report.accept("weight " + w + " (" + (bytes >> 20) + " MiB) does not fit on " + deviceDescription()
                    + " (" + (usedBytes >> 20) + " MiB used of " + (budgetBytes >> 20) + ", largest buffer "
                    + (maxAllocBytes >> 20) + " MiB); it is multiplied on the CPU");
            return null;
        }
        m = new DeviceMatrix(w, device);
        resident.put(w, m);
        usedBytes += bytes;
        return m;
    }

    /** Weights multiplied on the CPU because they did not fit on the device, in no particular order. */
    public synchronized List<Tensor> cpuFallbacks() {
        return List.copyOf(onCpu.keySet());
    }

    TornadoDevice device() {
        return device;
    }

    /** The device, as TornadoVM describes it. */
    public String deviceDescription() {
        return device.getPlatformName() + " / " + device.getDescription();
    }

    @Override
    public String name() {
        return "tornadovm";
    }

    /** Frees the device copies of all weights, models and KV caches. */
    @Override
    public synchronized void close() {
        for (DeviceMatrix m : resident.values()) m.close();
        resident.clear();
        for (DeviceModel m : models.values()) m.close();
        models.clear();
        onCpu.clear();
        usedBytes = 0;
    }
}
