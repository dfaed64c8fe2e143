"""Maps a Keras InceptionV3 (its model.json topology and weights by Keras name) onto timm's
inception_v3 state_dict keys, as thaw's graph/inception_v3 names them.

The mapping comes from the topology, never from layer numbering: starting at the tensor the
global pool reads, each block's concatenation is matched input by input against timm's branch
order (conv kernel sizes, strides and padding, pools), back to the block's input, then the stem back
to the image. A concat whose inputs come in another order, a missing or extra layer, or a weight
whose shape does not fit its layer's configuration is a MappingError naming the Keras layer.
Layouts: Keras conv kernels are HWIO, thaw's (PyTorch's) OIHW; Keras' BatchNormalization with
scale=False has no gamma, which is then 1.
"""
from collections import OrderedDict

import numpy as np


class MappingError(Exception):
    pass


def conv(name, kh, kw, stride=1, padding="same"):
    return ("conv", name, kh, kw, stride, padding)


AVG = ("pool", "AveragePooling2D", 3, 1, "same")
MAX = ("pool", "MaxPooling2D", 3, 2, "valid")


def split(*branches):
    return ("split", list(branches))


STEM = [conv("Conv2d_1a_3x3", 3, 3, 2, "valid"), conv("Conv2d_2a_3x3", 3, 3, 1, "valid"),
        conv("Conv2d_2b_3x3", 3, 3, 1, "same"), MAX, conv("Conv2d_3b_1x1", 1, 1, 1, "valid"),
        conv("Conv2d_4a_3x3", 3, 3, 1, "valid"), MAX]

BLOCK_A = [[conv("branch1x1", 1, 1)],
           [conv("branch5x5_1", 1, 1), conv("branch5x5_2", 5, 5)],
           [conv("branch3x3dbl_1", 1, 1), conv("branch3x3dbl_2", 3, 3), conv("branch3x3dbl_3", 3, 3)],
           [AVG, conv("branch_pool", 1, 1)]]
BLOCK_B = [[conv("branch3x3", 3, 3, 2, "valid")],
           [conv("branch3x3dbl_1", 1, 1), conv("branch3x3dbl_2", 3, 3), conv("branch3x3dbl_3", 3, 3, 2, "valid")],
           [MAX]]
BLOCK_C = [[conv("branch1x1", 1, 1)],
           [conv("branch7x7_1", 1, 1), conv("branch7x7_2", 1, 7), conv("branch7x7_3", 7, 1)],
           [conv("branch7x7dbl_1", 1, 1), conv("branch7x7dbl_2", 7, 1), conv("branch7x7dbl_3", 1, 7),
            conv("branch7x7dbl_4", 7, 1), conv("branch7x7dbl_5", 1, 7)],
           [AVG, conv("branch_pool", 1, 1)]]
BLOCK_D = [[conv("branch3x3_1", 1, 1), conv("branch3x3_2", 3, 3, 2, "valid")],
           [conv("branch7x7x3_1", 1, 1), conv("branch7x7x3_2", 1, 7), conv("branch7x7x3_3", 7, 1),
            conv("branch7x7x3_4", 3, 3, 2, "valid")],
           [MAX]]
BLOCK_E = [[conv("branch1x1", 1, 1)],
           [conv("branch3x3_1", 1, 1), split([conv("branch3x3_2a", 1, 3)], [conv("branch3x3_2b", 3, 1)])],
           [conv("branch3x3dbl_1", 1, 1), conv("branch3x3dbl_2", 3, 3),
            split([conv("branch3x3dbl_3a", 1, 3)], [conv("branch3x3dbl_3b", 3, 1)])],
           [AVG, conv("branch_pool", 1, 1)]]

# timm's module, Keras' concat name, branches (in concat order).
BLOCKS = [("Mixed_5b", "mixed0", BLOCK_A), ("Mixed_5c", "mixed1", BLOCK_A), ("Mixed_5d", "mixed2", BLOCK_A),
          ("Mixed_6a", "mixed3", BLOCK_B), ("Mixed_6b", "mixed4", BLOCK_C), ("Mixed_6c", "mixed5", BLOCK_C),
          ("Mixed_6d", "mixed6", BLOCK_C), ("Mixed_6e", "mixed7", BLOCK_C), ("Mixed_7a", "mixed8", BLOCK_D),
          ("Mixed_7b", "mixed9", BLOCK_E), ("Mixed_7c", "mixed10", BLOCK_E)]

# What may follow the features: the global pool and the classifier, which are not imported.
HEAD_CLASSES = {"Dense", "Dropout", "Flatten", "Activation", "GlobalAveragePooling2D", "AveragePooling2D"}


def describe(step):
    if step[0] == "conv":
        return f"{step[1]} (conv {step[2]}x{step[3]}, stride {step[4]})"
    if step[0] == "pool":
        return f"{step[1]} {step[2]}x{step[2]} stride {step[3]}"
    return "a concat of " + " and ".join(describe(b[-1]) for b in step[1])


def conv_prefixes():
    """timm's conv module names in the graph's (forward) order."""
    out = []

    def walk(steps, block):
        for s in steps:
            if s[0] == "conv":
                out.append(f"{block}.{s[1]}" if block else s[1])
            elif s[0] == "split":
                for b in s[1]:
                    walk(b, block)
    walk(STEM, "")
    for block, _, branches in BLOCKS:
        for b in branches:
            walk(b, block)
    return out


class _Topology:
    def __init__(self, model_json):
        try:
            config = model_json["modelTopology"]["model_config"]["config"]
            layers = config["layers"]
        except (KeyError, TypeError):
            raise MappingError("model.json: no modelTopology.model_config.config.layers")
        self.layers = OrderedDict()
        for layer in layers:
            self.layers[layer["name"]] = layer
        self.outputs = [o[0] for o in config.get("output_layers", [])]
        self.used = set()
        self._channels = {}

    def get(self, name):
        if name not in self.layers:
            raise MappingError(f"model.json: layer {name} is referenced but not defined")
        return self.layers[name]

    def inbound(self, name):
        nodes = self.get(name).get("inbound_nodes", [])
        if len(nodes) != 1:
            raise MappingError(f"model.json: layer {name} is called {len(nodes)} times; expected once")
        return [n[0] for n in nodes[0]]

    def single_input(self, name):
        ins = self.inbound(name)
        if len(ins) != 1:
            raise MappingError(f"model.json: layer {name} has {len(ins)} inputs, expected 1")
        return ins[0]

    def channels(self, name):
        """Output channels of a layer, from the input's 3 through convs (filters) and concats (sums)."""
        if name in self._channels:
            return self._channels[name]
        layer = self.get(name)
        kind = layer["class_name"]
        if kind == "InputLayer":
            c = layer["config"]["batch_input_shape"][-1]
        elif kind == "Conv2D":
            c = layer["config"]["filters"]
        elif kind == "Concatenate":
            c = sum(self.channels(i) for i in self.inbound(name))
        else:
            c = self.channels(self.single_input(name))
        self._channels[name] = c
        return c


class _Matcher:
    def __init__(self, topo, weights):
        self.t, self.w = topo, weights
        self.convs = OrderedDict()  # timm prefix -> (conv layer, bn layer)
        self.eps = set()
        self.keras_blocks = {}

    def weight(self, name, shape, layer_desc):
        if name not in self.w:
            raise MappingError(f"weights: no tensor {name} for {layer_desc}")
        got = list(self.w[name].shape)
        if got != list(shape):
            raise MappingError(f"weights: {name} has shape {got} ({int(np.prod(got))} values) but {layer_desc} "
                               f"needs {list(shape)}")
        return self.w[name]

    def fail(self, where, step, layer, why):
        found = self.t.get(layer)["class_name"]
        raise MappingError(f"{where}: expected {describe(step)}, found layer {layer} ({found}): {why}")

    def step(self, where, prefix, step, cur):
        """Matches one template step ending at layer `cur`; returns the layer that feeds it."""
        t = self.t
        kind = step[0]
        if kind == "conv":
            _, name, kh, kw, stride, padding = step
            act = t.get(cur)
            if act["class_name"] != "Activation" or act["config"].get("activation") != "relu":
                self.fail(where, step, cur, "not a ReLU")
            bn_name = t.single_input(cur)
            bn = t.get(bn_name)
            if bn["class_name"] != "BatchNormalization":
                self.fail(where, step, bn_name, "not a BatchNormalization before the ReLU")
            conv_name = t.single_input(bn_name)
            c = t.get(conv_name)
            if c["class_name"] != "Conv2D":
                self.fail(where, step, conv_name, "not a Conv2D before the batch norm")
            cfg = c["config"]
            pad_ok = cfg.get("padding") == padding or (kh == kw == 1 and stride == 1)
            if (list(cfg.get("kernel_size", [])) != [kh, kw] or list(cfg.get("strides", [])) != [stride, stride]
                    or not pad_ok or list(cfg.get("dilation_rate", [1, 1])) != [1, 1]):
                self.fail(where, step, conv_name, f"kernel {cfg.get('kernel_size')}, strides {cfg.get('strides')}, "
                                                  f"padding {cfg.get('padding')}")
            if cfg.get("use_bias") or cfg.get("activation", "linear") != "linear":
                self.fail(where, step, conv_name, "a conv with a bias or its own activation")
            bcfg = bn["config"]
            if bcfg.get("axis") not in (3, -1, [3], [-1]) or not bcfg.get("center", True):
                self.fail(where, step, bn_name, "batch norm not over channels, or without beta")
            self.eps.add(float(bcfg.get("epsilon", 1e-3)))
            full = f"{prefix}.{name}" if prefix else name
            if full in self.convs:
                raise MappingError(f"{where}: {full} matched twice")
            self.convs[full] = (conv_name, bn_name)
            self.t.used.update([cur, bn_name, conv_name])
            return t.single_input(conv_name)
        if kind == "pool":
            _, cls, k, stride, padding = step
            layer = t.get(cur)
            cfg = layer["config"]
            if (layer["class_name"] != cls or list(cfg.get("pool_size", [])) != [k, k]
                    or list(cfg.get("strides", [])) != [stride, stride] or cfg.get("padding") != padding):
                self.fail(where, step, cur, f"pool {cfg.get('pool_size')}, strides {cfg.get('strides')}, "
                                            f"padding {cfg.get('padding')}")
            self.t.used.add(cur)
            return t.single_input(cur)
        # split: a concat of sub-branches that start at one layer
        layer = t.get(cur)
        subs = step[1]
        ins = t.inbound(cur) if layer["class_name"] == "Concatenate" else []
        if len(ins) != len(subs):
            self.fail(where, step, cur, f"not a concat of {len(subs)} inputs")
        starts = {self.branch(f"{where} input {i} of {cur}", prefix, sub, inp) for i, (sub, inp) in
                  enumerate(zip(subs, ins))}
        if len(starts) != 1:
            raise MappingError(f"{where}: the inputs of {cur} start from different layers {sorted(starts)}")
        self.t.used.add(cur)
        return starts.pop()

    def branch(self, where, prefix, steps, cur):
        for s in reversed(steps):
            cur = self.step(where, prefix, s, cur)
        return cur

    def block(self, timm, keras, branches, cur):
        layer = self.t.get(cur)
        ins = self.t.inbound(cur) if layer["class_name"] == "Concatenate" else []
        if len(ins) != len(branches):
            raise MappingError(f"{timm} ({keras}): expected a concat of {len(branches)} branches, found layer "
                               f"{cur} ({layer['class_name']}) with {len(ins)} inputs")
        starts = set()
        for i, (b, inp) in enumerate(zip(branches, ins)):
            where = f"{timm} ({keras}, concat {cur}) input {i}"
            starts.add(self.branch(where, timm, b, inp))
        if len(starts) != 1:
            raise MappingError(f"{timm} ({keras}): branches of {cur} start from different layers {sorted(starts)}")
        self.keras_blocks[timm] = cur
        self.t.used.add(cur)
        return starts.pop()


def features_layer(topo):
    """The layer whose output the global pool reads, walking back from the model's output over the head."""
    if len(topo.outputs) != 1:
        raise MappingError(f"model.json: expected one output layer, found {topo.outputs}")
    cur, head = topo.outputs[0], []
    while topo.get(cur)["class_name"] in HEAD_CLASSES:
        head.append(cur)
        if topo.get(cur)["class_name"] in ("GlobalAveragePooling2D", "AveragePooling2D"):
            return topo.single_input(cur), head
        cur = topo.single_input(cur)
    raise MappingError(f"model.json: no global average pool between the output and layer {cur}")


def map_keras_inception_v3(model_json, weights):
    """OrderedDict of timm keys -> float32 arrays (num_batches_tracked as int64 0), the BN epsilon, a
    dict timm block -> Keras concat name, and the skipped head layers."""
    topo = _Topology(model_json)
    m = _Matcher(topo, weights)
    cur, head = features_layer(topo)
    for timm, keras, branches in reversed(BLOCKS):
        cur = m.block(timm, keras, branches, cur)
    start = m.branch("stem", "", STEM, cur)
    if topo.get(start)["class_name"] != "InputLayer":
        raise MappingError(f"stem: expected to reach the input layer, reached {start}")
    topo.used.add(start)
    unused = [n for n in topo.layers if n not in topo.used and n not in head]
    if unused:
        raise MappingError(f"model.json: layers outside InceptionV3's features and head: {unused[:5]}")
    if len(m.eps) != 1:
        raise MappingError(f"model.json: batch norms use different epsilons {sorted(m.eps)}")

    out = OrderedDict()
    for prefix in conv_prefixes():
        conv_name, bn_name = m.convs[prefix]
        cfg = topo.get(conv_name)["config"]
        kh, kw = cfg["kernel_size"]
        cout, cin = cfg["filters"], topo.channels(topo.single_input(conv_name))
        kernel = m.weight(f"{conv_name}/kernel", [kh, kw, cin, cout], f"layer {conv_name} (Conv2D {kh}x{kw}, "
                                                                       f"{cout} filters on {cin} channels)")
        bdesc = f"layer {bn_name} (BatchNormalization of {cout} channels)"
        bcfg = topo.get(bn_name)["config"]
        gamma = (m.weight(f"{bn_name}/gamma", [cout], bdesc) if bcfg.get("scale", True)
                 else np.ones(cout, np.float32))
        out[f"{prefix}.conv.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1), dtype=np.float32)
        out[f"{prefix}.bn.weight"] = np.asarray(gamma, np.float32)
        out[f"{prefix}.bn.bias"] = np.asarray(m.weight(f"{bn_name}/beta", [cout], bdesc), np.float32)
        out[f"{prefix}.bn.running_mean"] = np.asarray(m.weight(f"{bn_name}/moving_mean", [cout], bdesc), np.float32)
        out[f"{prefix}.bn.running_var"] = np.asarray(m.weight(f"{bn_name}/moving_variance", [cout], bdesc),
                                                     np.float32)
        out[f"{prefix}.bn.num_batches_tracked"] = np.asarray(0, np.int64)
    return out, m.eps.pop(), m.keras_blocks, head
