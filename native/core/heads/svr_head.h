// Support-vector regression over a feature vector output (DeepBIQ: AlexNet fc7 -> SVR): each
// sample's features are standardised (x - mean) / scale when a scaler is given (scikit-learn's
// StandardScaler; a MinMaxScaler converts to the same form), then libsvm's svm_predict on a
// libsvm text model (the SvrModel BRISQUE uses). Any feature-extractor graph can use it.
#pragma once
#include <memory>

#include "brisque/svr.h"
#include "heads/head.h"

namespace iqa {

class SvrHead : public Head {
 public:
  explicit SvrHead(const HeadSpec& spec);
  void validate(const std::vector<ort::TensorInfo>& session_outputs) const override;
  void compute(const std::vector<ort::OutputView>& outs, size_t n, double* scores) const override;

 private:
  int features_;
  std::shared_ptr<const brisque::SvrModel> svr_;
  std::vector<double> mean_, inv_scale_;
};

}  // namespace iqa
