# The test images DeepConvNet gets wrong, as {view index: (label, inference)}.
import os
import sys
sys.path.append(os.pardir)
import numpy as np
import matplotlib.pyplot as plt
from dataset.mnist import load_mnist
from deep_convnet import DeepConvNet

(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)
sampled = 200
x_test, t_test = x_test[:sampled], t_test[:sampled]

network = DeepConvNet()
network.load_params("deep_convnet_params.pkl")

classified_ids = []
acc = 0.0
batch_size = 100
for i in range(int(x_test.shape[0] / batch_size)):
    tx = x_test[i * batch_size:(i + 1) * batch_size]
    tt = t_test[i * batch_size:(i + 1) * batch_size]
    y = np.argmax(network.predict(tx, train_flg=False), axis=1)
    classified_ids.append(y)
    acc += np.sum(y == tt)
print("test accuracy:" + str(acc / x_test.shape[0]))
classified_ids = np.array(classified_ids).flatten()

max_view = 20
current_view = 1
fig = plt.figure()
mis_pairs = {}
for i, val in enumerate(classified_ids == t_test):
    if not val:
        ax = fig.add_subplot(4, 5, current_view, xticks=[], yticks=[])
        ax.imshow(x_test[i].reshape(28, 28), cmap=plt.cm.gray_r, interpolation='nearest')
        mis_pairs[current_view] = (int(t_test[i]), int(classified_ids[i]), i)
        current_view += 1
        if current_view > max_view:
            break
plt.show()
print("======= misclassified result =======")
print("{view index: (label, inference, test index), ...}")
print(mis_pairs)
