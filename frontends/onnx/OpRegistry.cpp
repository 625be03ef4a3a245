// The table of ONNX op importers (see OpRegistry.h). One row per op and opset range; the opset ranges
// start where the ONNX op first appears (or at opset 6, the oldest Tessel reads) and run to the newest
// opset Tessel knows, with version differences handled inside the importer.
#include "frontends/onnx/OpRegistry.h"

#include <vector>

#include "frontends/onnx/ImportOps.h"

namespace tessel::onnx {
namespace {

constexpr int64_t kMax = kMaxOnnxOpset;
constexpr int64_t kMlMax = kMaxOnnxMlOpset;
constexpr std::string_view kAi = kOnnxDomain;
constexpr std::string_view kMl = kOnnxMlDomain;
constexpr std::string_view kTraining = kOnnxTrainingDomain;
constexpr std::string_view kPreview = kOnnxPreviewDomain;

const OpImporter kImporters[] = {
    // ---- Elementwise ----
    {kAi, "Abs", 6, kMax, import_unary},
    {kAi, "Neg", 6, kMax, import_unary},
    {kAi, "Sign", 9, kMax, import_unary},
    {kAi, "Exp", 6, kMax, import_unary},
    {kAi, "Log", 6, kMax, import_unary},
    {kAi, "Sqrt", 6, kMax, import_unary},
    {kAi, "Reciprocal", 6, kMax, import_unary},
    {kAi, "Tanh", 6, kMax, import_unary},
    {kAi, "Sigmoid", 6, kMax, import_unary},
    {kAi, "Erf", 9, kMax, import_unary},
    {kAi, "Relu", 6, kMax, import_unary},
    {kAi, "Floor", 6, kMax, import_unary},
    {kAi, "Ceil", 6, kMax, import_unary},
    {kAi, "Round", 11, kMax, import_unary},
    {kAi, "Sin", 7, kMax, import_unary},
    {kAi, "Cos", 7, kMax, import_unary},
    {kAi, "Tan", 7, kMax, import_unary},
    {kAi, "Asin", 7, kMax, import_unary},
    {kAi, "Acos", 7, kMax, import_unary},
    {kAi, "Atan", 7, kMax, import_unary},
    {kAi, "Sinh", 9, kMax, import_unary},
    {kAi, "Cosh", 9, kMax, import_unary},
    {kAi, "Asinh", 9, kMax, import_unary},
    {kAi, "Acosh", 9, kMax, import_unary},
    {kAi, "Atanh", 9, kMax, import_unary},
    {kAi, "Not", 6, kMax, import_unary},
    {kAi, "IsNaN", 9, kMax, import_unary},
    {kAi, "IsInf", 10, kMax, import_is_inf},
    {kAi, "Add", 6, kMax, import_binary},
    {kAi, "Sub", 6, kMax, import_binary},
    {kAi, "Mul", 6, kMax, import_binary},
    {kAi, "Div", 6, kMax, import_binary},
    {kAi, "Pow", 6, kMax, import_binary},
    {kAi, "And", 6, kMax, import_binary},
    {kAi, "Or", 6, kMax, import_binary},
    {kAi, "Xor", 6, kMax, import_binary},
    {kAi, "Equal", 6, kMax, import_binary},
    {kAi, "Less", 6, kMax, import_binary},
    {kAi, "LessOrEqual", 12, kMax, import_binary},
    {kAi, "Greater", 6, kMax, import_binary},
    {kAi, "GreaterOrEqual", 12, kMax, import_binary},
    {kAi, "Mod", 10, kMax, import_mod},
    {kAi, "Sum", 6, kMax, import_variadic},
    {kAi, "Mean", 6, kMax, import_variadic},
    {kAi, "Max", 6, kMax, import_variadic},
    {kAi, "Min", 6, kMax, import_variadic},
    {kAi, "Where", 9, kMax, import_where},
    {kAi, "Cast", 6, kMax, import_cast},
    {kAi, "CastLike", 15, kMax, import_cast_like},
    {kAi, "Clip", 6, kMax, import_clip},
    {kAi, "Identity", 6, kMax, import_identity},
    {kAi, "Constant", 6, kMax, import_constant},
    {kAi, "BitShift", 11, kMax, import_bit_shift},
    {kAi, "BitwiseAnd", 18, kMax, import_bitwise},
    {kAi, "BitwiseOr", 18, kMax, import_bitwise},
    {kAi, "BitwiseXor", 18, kMax, import_bitwise},
    {kAi, "BitwiseNot", 18, kMax, import_bitwise},
    {kAi, "BitCast", 26, kMax, import_bitcast},
    // ---- Strings ----
    {kAi, "StringConcat", 20, kMax, import_string_concat},
    {kAi, "RegexFullMatch", 20, kMax, import_regex_full_match},
    {kAi, "StringSplit", 20, kMax, import_string_split},
    {kAi, "StringNormalizer", 10, kMax, import_string_normalizer},
    // ---- Activations ----
    {kAi, "LeakyRelu", 6, kMax, import_leaky_relu},
    {kAi, "Elu", 6, kMax, import_elu},
    {kAi, "Selu", 6, kMax, import_selu},
    {kAi, "Celu", 12, kMax, import_celu},
    {kAi, "HardSigmoid", 6, kMax, import_hard_sigmoid},
    {kAi, "HardSwish", 14, kMax, import_hard_swish},
    {kAi, "Softplus", 6, kMax, import_softplus},
    {kAi, "Softsign", 6, kMax, import_softsign},
    {kAi, "ThresholdedRelu", 10, kMax, import_thresholded_relu},
    {kAi, "PRelu", 6, kMax, import_prelu},
    {kAi, "Shrink", 9, kMax, import_shrink},
    {kAi, "Mish", 18, kMax, import_mish},
    {kAi, "Gelu", 20, kMax, import_gelu},
    {kAi, "Swish", 24, kMax, import_swish},
    {kAi, "SwiGLU", 28, kMax, import_swiglu},
    // ---- Convolution, pooling, matrix products ----
    {kAi, "Conv", 6, kMax, import_conv},
    {kAi, "ConvTranspose", 6, kMax, import_conv_transpose},
    {kAi, "MaxPool", 6, kMax, import_max_pool},
    {kAi, "AveragePool", 6, kMax, import_average_pool},
    {kAi, "LpPool", 7, kMax, import_lp_pool},
    {kAi, "GlobalAveragePool", 6, kMax, import_global_pool},
    {kAi, "GlobalMaxPool", 6, kMax, import_global_pool},
    {kAi, "GlobalLpPool", 7, kMax, import_global_pool},
    {kAi, "Gemm", 6, kMax, import_gemm},
    {kAi, "MatMul", 6, kMax, import_matmul},
    {kAi, "Dropout", 6, kMax, import_dropout},
    {kAi, "CausalConvWithState", 27, kMax, import_causal_conv_with_state},
    {kAi, "MaxUnpool", 9, kMax, import_max_unpool},
    // ---- Normalization ----
    {kAi, "BatchNormalization", 6, kMax, import_batch_norm},
    {kAi, "InstanceNormalization", 6, kMax, import_instance_norm},
    {kAi, "LayerNormalization", 17, kMax, import_layer_norm},
    {kAi, "GroupNormalization", 21, kMax, import_group_norm},
    {kAi, "RMSNormalization", 23, kMax, import_rms_norm},
    {kAi, "LpNormalization", 6, kMax, import_lp_norm},
    {kAi, "MeanVarianceNormalization", 9, kMax, import_mean_variance_norm},
    {kAi, "Softmax", 6, kMax, import_softmax},
    {kAi, "LogSoftmax", 6, kMax, import_softmax},
    {kAi, "Hardmax", 6, kMax, import_hardmax},
    {kAi, "LRN", 6, kMax, import_lrn},
    // ---- Reductions ----
    {kAi, "ReduceSum", 6, kMax, import_reduce},
    {kAi, "ReduceMean", 6, kMax, import_reduce},
    {kAi, "ReduceMax", 6, kMax, import_reduce},
    {kAi, "ReduceMin", 6, kMax, import_reduce},
    {kAi, "ReduceProd", 6, kMax, import_reduce},
    {kAi, "ReduceL1", 6, kMax, import_reduce},
    {kAi, "ReduceL2", 6, kMax, import_reduce},
    {kAi, "ReduceLogSumExp", 6, kMax, import_reduce},
    {kAi, "ReduceLogSum", 6, kMax, import_reduce},
    {kAi, "ReduceSumSquare", 6, kMax, import_reduce},
    {kAi, "ArgMax", 6, kMax, import_arg_reduce},
    {kAi, "ArgMin", 6, kMax, import_arg_reduce},
    {kAi, "CumSum", 11, kMax, import_cumulative},
    {kAi, "CumProd", 26, kMax, import_cumulative},
    {kAi, "TopK", 7, kMax, import_top_k},
    // ---- Shapes ----
    {kAi, "Shape", 6, kMax, import_shape},
    {kAi, "Size", 6, kMax, import_size},
    {kAi, "Reshape", 6, kMax, import_reshape},
    {kAi, "Flatten", 6, kMax, import_flatten},
    {kAi, "Transpose", 6, kMax, import_transpose},
    {kAi, "Concat", 6, kMax, import_concat},
    {kAi, "Split", 6, kMax, import_split},
    {kAi, "Squeeze", 6, kMax, import_squeeze},
    {kAi, "Unsqueeze", 6, kMax, import_unsqueeze},
    {kAi, "Expand", 8, kMax, import_expand},
    {kAi, "ConstantOfShape", 9, kMax, import_constant_of_shape},
    {kAi, "Range", 11, kMax, import_range},
    {kAi, "Tile", 6, kMax, import_tile},
    {kAi, "Pad", 6, kMax, import_pad},
    {kAi, "DepthToSpace", 6, kMax, import_depth_to_space},
    {kAi, "SpaceToDepth", 6, kMax, import_space_to_depth},
    {kAi, "Slice", 6, kMax, import_slice},
    {kAi, "Gather", 6, kMax, import_gather},
    {kAi, "GatherElements", 11, kMax, import_gather_elements},
    {kAi, "ScatterElements", 11, kMax, import_scatter_elements},
    {kAi, "Scatter", 9, 10, import_scatter_elements},
    {kAi, "Trilu", 14, kMax, import_trilu},
    {kAi, "OneHot", 9, kMax, import_one_hot},
    {kAi, "EyeLike", 9, kMax, import_eye_like},
    {kAi, "GatherND", 11, kMax, import_gather_nd},
    {kAi, "ScatterND", 11, kMax, import_scatter_nd},
    {kAi, "ReverseSequence", 10, kMax, import_reverse_sequence},
    {kAi, "TensorScatter", 24, kMax, import_tensor_scatter},
    {kAi, "Col2Im", 18, kMax, import_col2im},
    {kAi, "CenterCropPad", 18, kMax, import_center_crop_pad},
    {kAi, "Einsum", 12, kMax, import_einsum},
    {kAi, "Attention", 23, kMax, import_attention},
    {kAi, "RotaryEmbedding", 23, kMax, import_rotary_embedding},
    {kAi, "LinearAttention", 27, kMax, import_linear_attention},
    {kAi, "NegativeLogLikelihoodLoss", 12, kMax, import_nll_loss},
    {kAi, "SoftmaxCrossEntropyLoss", 12, kMax, import_softmax_cross_entropy_loss},
    {kAi, "Resize", 11, kMax, import_resize},
    {kAi, "Upsample", 7, 9, import_upsample},
    {kAi, "AffineGrid", 20, kMax, import_affine_grid},
    {kAi, "GridSample", 16, kMax, import_grid_sample},
    // ---- Quantization ----
    {kAi, "QuantizeLinear", 10, kMax, import_quantize_linear},
    {kAi, "DequantizeLinear", 10, kMax, import_dequantize_linear},
    {kAi, "DynamicQuantizeLinear", 11, kMax, import_dynamic_quantize_linear},
    {kAi, "MatMulInteger", 10, kMax, import_matmul_integer},
    {kAi, "ConvInteger", 10, kMax, import_conv_integer},
    {kAi, "QLinearMatMul", 10, kMax, import_qlinear_matmul},
    {kAi, "QLinearConv", 10, kMax, import_qlinear_conv},
    // ---- Signal processing ----
    {kAi, "HannWindow", 17, kMax, import_window},
    {kAi, "HammingWindow", 17, kMax, import_window},
    {kAi, "BlackmanWindow", 17, kMax, import_window},
    {kAi, "MelWeightMatrix", 17, kMax, import_mel_weight_matrix},
    {kAi, "DFT", 17, kMax, import_dft},
    // ---- Control flow ----
    {kAi, "If", 7, kMax, import_if},
    {kAi, "Loop", 7, kMax, import_loop},
    {kAi, "Scan", 8, kMax, import_scan},
    // ---- Recurrent ----
    {kAi, "LSTM", 7, kMax, import_lstm},
    {kAi, "GRU", 7, kMax, import_gru},
    {kAi, "RNN", 7, kMax, import_rnn},
    // ---- ai.onnx.preview ----
    {kPreview, "FlexAttention", 1, 1, import_flex_attention},
    // ---- ai.onnx.preview.training ----
    {kTraining, "Adagrad", 1, 1, import_adagrad},
    {kTraining, "Momentum", 1, 1, import_momentum},
    {kTraining, "Adam", 1, 1, import_adam},
    // ---- ai.onnx.ml ----
    {kMl, "TreeEnsemble", 5, kMlMax, import_tree_ensemble},
    {kMl, "TreeEnsembleRegressor", 1, kMlMax, import_tree_ensemble_regressor},
    {kMl, "TreeEnsembleClassifier", 1, kMlMax, import_tree_ensemble_classifier},
    {kMl, "Binarizer", 1, kMlMax, import_binarizer},
    {kMl, "ArrayFeatureExtractor", 1, kMlMax, import_array_feature_extractor},
    {kMl, "LabelEncoder", 2, kMlMax, import_label_encoder},
    {kMl, "CategoryMapper", 1, kMlMax, import_category_mapper},
    {kMl, "LinearClassifier", 1, kMlMax, import_linear_classifier},
    {kMl, "LinearRegressor", 1, kMlMax, import_linear_regressor},
    {kMl, "Normalizer", 1, kMlMax, import_normalizer},
    {kMl, "Scaler", 1, kMlMax, import_scaler},
    {kMl, "OneHotEncoder", 1, kMlMax, import_one_hot_encoder},
    {kMl, "Imputer", 1, kMlMax, import_imputer},
    {kMl, "ZipMap", 1, kMlMax, import_zip_map},
    {kMl, "SVMClassifier", 1, kMlMax, import_svm_classifier},
    {kMl, "SVMRegressor", 1, kMlMax, import_svm_regressor},
};

std::string_view canonical_domain(std::string_view domain) { return domain.empty() ? kOnnxDomain : domain; }

}  // namespace

std::span<const OpImporter> op_importers() { return kImporters; }

const OpImporter* find_op_importer(std::string_view domain, std::string_view op_type, int64_t opset) {
  domain = canonical_domain(domain);
  for (const OpImporter& importer : kImporters)
    if (importer.domain == domain && importer.op_type == op_type && importer.min_opset <= opset &&
        opset <= importer.max_opset)
      return &importer;
  return nullptr;
}

std::string supported_opsets(std::string_view domain, std::string_view op_type) {
  domain = canonical_domain(domain);
  std::vector<std::string> ranges;
  for (const OpImporter& importer : kImporters)
    if (importer.domain == domain && importer.op_type == op_type)
      ranges.push_back(importer.min_opset == importer.max_opset
                           ? fmt::format("{}", importer.min_opset)
                           : fmt::format("{}-{}", importer.min_opset, importer.max_opset));
  if (ranges.empty()) return {};
  return fmt::format("{} opset{} {}", domain, ranges.size() == 1 && ranges[0].find('-') == std::string::npos ? "" : "s",
                     fmt::join(ranges, ", "));
}

}  // namespace tessel::onnx
