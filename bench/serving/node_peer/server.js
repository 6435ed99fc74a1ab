// Benchmark peer: Node.js http + onnxruntime-node serving an ONNX model at the OIP v2 JSON route
// Meridian uses, so that bench/serving/loadgen drives both. One intra-op thread.
//   node bench/serving/node_peer/server.js PORT MODEL.onnx
const http = require('http');
const ort = require('onnxruntime-node');

const [port, modelPath] = process.argv.slice(2);

ort.InferenceSession.create(modelPath, {intraOpNumThreads: 1, interOpNumThreads: 1}).then((session) => {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.end('{"ok":true}');
      return;
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        const feeds = {};
        for (const input of body.inputs) {
          feeds[input.name] = new ort.Tensor('float32', Float32Array.from(input.data.flat(Infinity)), input.shape);
        }
        const results = await session.run(feeds);
        const outputs = Object.entries(results).map(([name, t]) => ({
          name, datatype: 'FP32', shape: t.dims, data: Array.from(t.data)}));
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({model_name: 'peer', outputs}));
      } catch (e) {
        res.statusCode = 400;
        res.end(JSON.stringify({error: String(e)}));
      }
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(Number(port), '127.0.0.1');
});
