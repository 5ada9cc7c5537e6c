import * as protobuf from 'protobufjs';

/**
 * The subset of `onnx/onnx-ml.proto` (ONNX 1.23, IR version 10) that tree-ensemble models need, as a protobufjs JSON
 * descriptor. Field names and numbers are copied from the official proto (verified against
 * `onnx/onnx-ml.proto` of the `onnx` 1.23.2 wheel); fields outside the subset are skipped on decode by protobuf's
 * unknown-field rule and never written.
 */
export const ONNX_ML_DESCRIPTOR = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            doc_string: { type: 'string', id: 13 },
            type: { type: 'AttributeType', id: 20 },
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSOR: 11,
                SPARSE_TENSORS: 12,
                TYPE_PROTO: 13,
                TYPE_PROTOS: 14,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            doc_string: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            doc_string: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            value_info: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            data_type: { type: 'int32', id: 2 },
            float_data: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32_data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            string_data: { rule: 'repeated', type: 'bytes', id: 6 },
            int64_data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
            double_data: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
            uint64_data: { rule: 'repeated', type: 'uint64', id: 11, options: { packed: true } },
            doc_string: { type: 'string', id: 12 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: {
                dim_value: { type: 'int64', id: 1 },
                dim_param: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type', 'sequence_type', 'map_type'] } },
          fields: {
            tensor_type: { type: 'Tensor', id: 1 },
            sequence_type: { type: 'Sequence', id: 4 },
            map_type: { type: 'Map', id: 5 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elem_type: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
            Sequence: { fields: { elem_type: { type: 'TypeProto', id: 1 } } },
            Map: { fields: { key_type: { type: 'int32', id: 1 }, value_type: { type: 'TypeProto', id: 2 } } },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
      },
    },
  },
} as const;

/** `TensorProto.DataType` values used here (onnx-ml.proto). */
export const OnnxDataType = { FLOAT: 1, INT64: 7, STRING: 8, DOUBLE: 11 } as const;

/** `AttributeProto.AttributeType` values used here (onnx-ml.proto). */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

const root = protobuf.Root.fromJSON(ONNX_ML_DESCRIPTOR as unknown as protobuf.INamespace);

/** protobufjs type of `onnx.ModelProto` built from {@link ONNX_ML_DESCRIPTOR}. */
export const ModelProtoType: protobuf.Type = root.lookupType('onnx.ModelProto');

/**
 * Plain-object shapes of the decoded messages (int64 as number: every value here is far below 2^53).
 * `onnx.TensorProto`: dims, element type and the values in one of the typed fields.
 */
export interface TensorMsg {
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  raw_data?: Uint8Array;
  name?: string;
}
/** `onnx.AttributeProto` (the fields used here). */
export interface AttributeMsg {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}
/** `onnx.NodeProto`. */
export interface NodeMsg {
  input?: string[];
  output?: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeMsg[];
}
/** `onnx.TensorShapeProto.Dimension`: a fixed size or a symbolic name. */
export interface DimMsg {
  dim_value?: number;
  dim_param?: string;
}
/** `onnx.TypeProto` (tensors; sequences and maps are only recognised). */
export interface TypeMsg {
  tensor_type?: { elem_type?: number; shape?: { dim?: DimMsg[] } };
  sequence_type?: unknown;
  map_type?: unknown;
}
/** `onnx.ValueInfoProto`: a graph input or output. */
export interface ValueInfoMsg {
  name: string;
  type?: TypeMsg;
}
/** `onnx.ModelProto`: the top-level message of an `.onnx` file. */
export interface ModelMsg {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph?: {
    node?: NodeMsg[];
    name?: string;
    input?: ValueInfoMsg[];
    output?: ValueInfoMsg[];
    initializer?: TensorMsg[];
  };
  opset_import?: { domain?: string; version?: number }[];
  metadata_props?: { key: string; value: string }[];
}

/** Serialises a model message to ONNX protobuf bytes (the message is verified against the descriptor first). */
export function encodeModel(model: ModelMsg): Uint8Array {
  const err = ModelProtoType.verify(model);
  if (err) throw new Error(`invalid ONNX ModelProto: ${err}`);
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

/** Parses ONNX protobuf bytes into a plain object (int64 → number, bytes → Uint8Array, defaults left out). */
export function decodeModel(bytes: Uint8Array): ModelMsg {
  const msg = ModelProtoType.decode(bytes);
  return ModelProtoType.toObject(msg, { longs: Number, arrays: false, defaults: false }) as unknown as ModelMsg;
}
