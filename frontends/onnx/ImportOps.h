// Private to the ONNX importer: every op importer, grouped by the file that defines it. OpRegistry.cpp
// puts them in the one table; each is `void import_x(NodeContext&)`.
#pragma once

#include <utility>
#include <vector>

#include "frontends/onnx/ImportContext.h"

namespace tessel::onnx {

// ImportElementwise.cpp: unary and binary math, comparisons, logic, variadic Sum/Mean/Max/Min, Where,
// Cast/CastLike, Clip, Identity, Constant.
void import_unary(NodeContext& ctx);
void import_is_inf(NodeContext& ctx);
void import_binary(NodeContext& ctx);
void import_mod(NodeContext& ctx);
void import_variadic(NodeContext& ctx);
void import_where(NodeContext& ctx);
void import_cast(NodeContext& ctx);
void import_cast_like(NodeContext& ctx);
void import_clip(NodeContext& ctx);
void import_identity(NodeContext& ctx);
void import_constant(NodeContext& ctx);
void import_bit_shift(NodeContext& ctx);
void import_bitwise(NodeContext& ctx);
void import_bitcast(NodeContext& ctx);

// ImportActivation.cpp: activations, as IR primitives or compositions of them.
void import_leaky_relu(NodeContext& ctx);
void import_elu(NodeContext& ctx);
void import_selu(NodeContext& ctx);
void import_celu(NodeContext& ctx);
void import_hard_sigmoid(NodeContext& ctx);
void import_hard_swish(NodeContext& ctx);
void import_softplus(NodeContext& ctx);
void import_softsign(NodeContext& ctx);
void import_thresholded_relu(NodeContext& ctx);
void import_prelu(NodeContext& ctx);
void import_shrink(NodeContext& ctx);
void import_mish(NodeContext& ctx);
void import_gelu(NodeContext& ctx);
void import_swish(NodeContext& ctx);
void import_swiglu(NodeContext& ctx);

// ImportNn.cpp: convolution, pooling, matrix products, dropout.
void import_conv(NodeContext& ctx);
void import_conv_transpose(NodeContext& ctx);
void import_max_pool(NodeContext& ctx);
void import_average_pool(NodeContext& ctx);
void import_lp_pool(NodeContext& ctx);
void import_global_pool(NodeContext& ctx);
void import_gemm(NodeContext& ctx);
void import_matmul(NodeContext& ctx);
void import_dropout(NodeContext& ctx);
void import_causal_conv_with_state(NodeContext& ctx);
void import_max_unpool(NodeContext& ctx);

// ImportNorm.cpp: normalizations and softmax.
void import_batch_norm(NodeContext& ctx);
void import_instance_norm(NodeContext& ctx);
void import_layer_norm(NodeContext& ctx);
void import_group_norm(NodeContext& ctx);
void import_rms_norm(NodeContext& ctx);
void import_lp_norm(NodeContext& ctx);
void import_mean_variance_norm(NodeContext& ctx);
void import_softmax(NodeContext& ctx);
void import_hardmax(NodeContext& ctx);
void import_lrn(NodeContext& ctx);

// ImportReduce.cpp: reductions, arg-reductions and running sums/products.
void import_reduce(NodeContext& ctx);
void import_arg_reduce(NodeContext& ctx);
void import_cumulative(NodeContext& ctx);
void import_top_k(NodeContext& ctx);

// ImportShape.cpp: shapes as values, and ops that rearrange whole tensors.
void import_shape(NodeContext& ctx);
void import_size(NodeContext& ctx);
void import_reshape(NodeContext& ctx);
void import_flatten(NodeContext& ctx);
void import_transpose(NodeContext& ctx);
void import_concat(NodeContext& ctx);
void import_split(NodeContext& ctx);
void import_squeeze(NodeContext& ctx);
void import_unsqueeze(NodeContext& ctx);
void import_expand(NodeContext& ctx);
void import_constant_of_shape(NodeContext& ctx);
void import_range(NodeContext& ctx);
void import_tile(NodeContext& ctx);
void import_pad(NodeContext& ctx);
void import_depth_to_space(NodeContext& ctx);
void import_space_to_depth(NodeContext& ctx);
void import_center_crop_pad(NodeContext& ctx);

// ImportShapeIndexing.cpp: ops driven by indices or positions.
void import_slice(NodeContext& ctx);
void import_gather(NodeContext& ctx);
void import_gather_elements(NodeContext& ctx);
void import_scatter_elements(NodeContext& ctx);
void import_trilu(NodeContext& ctx);
void import_one_hot(NodeContext& ctx);
void import_eye_like(NodeContext& ctx);
void import_gather_nd(NodeContext& ctx);
void import_scatter_nd(NodeContext& ctx);
void import_reverse_sequence(NodeContext& ctx);
void import_tensor_scatter(NodeContext& ctx);
void import_col2im(NodeContext& ctx);

// ImportEinsum.cpp: Einsum as broadcast products and sums.
void import_einsum(NodeContext& ctx);

// ImportAttention.cpp: transformer blocks as compositions.
void import_attention(NodeContext& ctx);
void import_rotary_embedding(NodeContext& ctx);
void import_linear_attention(NodeContext& ctx);
void import_flex_attention(NodeContext& ctx);

// ImportLoss.cpp: training losses as compositions.
void import_nll_loss(NodeContext& ctx);
void import_softmax_cross_entropy_loss(NodeContext& ctx);

// ImportSignal.cpp: window functions and mel filters, computed at import time.
void import_window(NodeContext& ctx);
void import_mel_weight_matrix(NodeContext& ctx);

// ImportDft.cpp: the discrete Fourier transform as constant-matrix contractions.
void import_dft(NodeContext& ctx);

// ImportQuant.cpp: quantization ops as compositions.
void import_quantize_linear(NodeContext& ctx);
void import_dequantize_linear(NodeContext& ctx);
void import_dynamic_quantize_linear(NodeContext& ctx);
void import_matmul_integer(NodeContext& ctx);
void import_conv_integer(NodeContext& ctx);
void import_qlinear_matmul(NodeContext& ctx);
void import_qlinear_conv(NodeContext& ctx);

// ImportResize.cpp: Resize and Upsample as per-axis weight contractions.
void import_resize(NodeContext& ctx);
void import_upsample(NodeContext& ctx);
void import_affine_grid(NodeContext& ctx);

// ImportGridSample.cpp: GridSample as gathers of interpolation corners.
void import_grid_sample(NodeContext& ctx);

// ImportControlFlow.cpp: If, Loop and Scan, inlined and unrolled.
void import_if(NodeContext& ctx);
void import_loop(NodeContext& ctx);
void import_scan(NodeContext& ctx);

// ImportTraining.cpp: the ai.onnx.preview.training optimizers.
void import_adagrad(NodeContext& ctx);
void import_momentum(NodeContext& ctx);
void import_adam(NodeContext& ctx);

// ImportRnn.cpp: recurrent layers.
void import_lstm(NodeContext& ctx);
void import_gru(NodeContext& ctx);
void import_rnn(NodeContext& ctx);

// ImportMl.cpp: the ai.onnx.ml domain.
void import_tree_ensemble(NodeContext& ctx);
void import_tree_ensemble_regressor(NodeContext& ctx);
void import_tree_ensemble_classifier(NodeContext& ctx);
void import_binarizer(NodeContext& ctx);
void import_array_feature_extractor(NodeContext& ctx);
void import_label_encoder(NodeContext& ctx);
void import_category_mapper(NodeContext& ctx);

// ImportMlLinear.cpp: linear models and preprocessing of the ai.onnx.ml domain.
void import_linear_classifier(NodeContext& ctx);
void import_linear_regressor(NodeContext& ctx);
void import_normalizer(NodeContext& ctx);
void import_scaler(NodeContext& ctx);
void import_one_hot_encoder(NodeContext& ctx);
void import_imputer(NodeContext& ctx);
void import_zip_map(NodeContext& ctx);

// ImportSvm.cpp: support vector machines.
void import_svm_classifier(NodeContext& ctx);
void import_svm_regressor(NodeContext& ctx);

// ImportString.cpp: the string ops.
void import_string_concat(NodeContext& ctx);
void import_regex_full_match(NodeContext& ctx);
void import_string_split(NodeContext& ctx);
void import_string_normalizer(NodeContext& ctx);

/// The permutation moving `axis` last (others keep their order) and its inverse.
inline std::pair<std::vector<int64_t>, std::vector<int64_t>> axis_last_permutation(int64_t rank, int64_t axis) {
  std::vector<int64_t> perm;
  for (int64_t i = 0; i < rank; ++i)
    if (i != axis) perm.push_back(i);
  perm.push_back(axis);
  std::vector<int64_t> inverse(static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) inverse[perm[i]] = i;
  return {perm, inverse};
}

}  // namespace tessel::onnx
