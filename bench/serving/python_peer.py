#!/usr/bin/python3
# The peer many teams deploy: FastAPI + uvicorn around python3-torch (Debian packages), serving a
# TorchScript model at the same OIP v2 JSON route Meridian uses, so the same load generator
# drives both. One uvicorn worker, one torch thread (as Meridian's instances).
#   python3 bench/serving/python_peer.py PORT MODEL.pt
import sys

import torch
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

torch.set_num_threads(1)
port, path = int(sys.argv[1]), sys.argv[2]
model = torch.jit.load(path)
model.eval()
app = FastAPI()


@app.post("/v2/models/{name}/infer")
async def infer(name: str, request: Request):
    body = await request.json()
    tensor = body["inputs"][0]
    x = torch.tensor(tensor["data"], dtype=torch.float32).reshape(tensor["shape"])
    with torch.inference_mode():
        y = model(x)
    return JSONResponse({"model_name": name, "outputs": [
        {"name": "output__0", "datatype": "FP32", "shape": list(y.shape), "data": y.reshape(-1).tolist()}]})


@app.get("/health")
async def health():
    return {"ok": True}


uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
