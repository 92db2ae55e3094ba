// Drives a running `jsteer serve` with the official `openai` npm client: completions, chat,
// streaming, steering passed as an extra body field, and errors surfaced as the client's error
// types. Usage: node check.mjs http://127.0.0.1:8080/v1 [vector-name]; the build runs it against a
// test server (tests module, OpenAiClientTest) after install.sh has installed the pinned client.
// Needs a server with a chat template (e.g. --chat-template) and a registered vector.
import OpenAI from "openai";
import assert from "node:assert/strict";

const baseURL = process.argv[2] ?? "http://127.0.0.1:8080/v1";
const vector = process.argv[3] ?? "love";
const client = new OpenAI({ baseURL, apiKey: process.env.JSTEER_API_KEY ?? "none", maxRetries: 0, timeout: 30_000 });
let passed = 0, failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok    ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL  ${name}: ${e.stack ?? e}`);
  }
}

const models = await client.models.list();
const model = models.data[0].id;
const prompt = "The old man walked to the";

await check("models.list names the served model", async () => {
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].object, "model");
});

let plain;
await check("completions.create (greedy)", async () => {
  const r = await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0 });
  plain = r.choices[0].text;
  assert.ok(plain.length > 0);
  assert.equal(r.usage.completion_tokens, 10);
});

await check("completions.create with steering as an extra body field", async () => {
  const r = await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0,
    steering: [{ vector, coeff: 6 }] });
  assert.notEqual(r.choices[0].text, plain);
});

await check("completions streaming equals the whole response", async () => {
  const stream = await client.completions.create({ model, prompt, max_tokens: 10, temperature: 0, stream: true,
    stream_options: { include_usage: true } });
  let text = "", usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length) text += chunk.choices[0].text;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, plain);
  assert.equal(usage.completion_tokens, 10);
});

await check("chat.completions.create, plain and streamed, steered via extra_body-style field", async () => {
  const messages = [{ role: "user", content: "Tell me about the village" }];
  const r = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0,
    steering: [{ vector, coeff: 4, positions: "all" }] });
  assert.equal(r.choices[0].message.role, "assistant");
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 8, temperature: 0, stream: true,
    steering: [{ vector, coeff: 4, positions: "all" }] });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.equal(text, r.choices[0].message.content);
});

await check("a bad field is a BadRequestError naming the param", async () => {
  await assert.rejects(client.completions.create({ model, prompt, max_tokens: 4, steering: [{ vector: "no-such-vector" }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === "steering[0].vector");
});

await check("an unknown model is a NotFoundError", async () => {
  await assert.rejects(client.completions.create({ model: "gpt-nothing", prompt, max_tokens: 4 }),
    (e) => e instanceof OpenAI.NotFoundError);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
